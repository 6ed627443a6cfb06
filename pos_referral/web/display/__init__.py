"""The customer display: ``/display/<till>`` on a screen facing the customer, fed by the till's actions."""
