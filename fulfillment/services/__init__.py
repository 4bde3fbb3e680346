"""Every write of the fulfilment stage."""
