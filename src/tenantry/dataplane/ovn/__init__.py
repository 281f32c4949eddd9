"""The Open vSwitch/OVN backend, driven through the Northbound database."""
