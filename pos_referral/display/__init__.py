"""The customer display's state per till: what the till's last action shows the customer (bus.py)."""
