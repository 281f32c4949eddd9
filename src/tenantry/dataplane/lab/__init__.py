"""Lab guests in network namespaces, and attacks sent from them."""
