"""Every read of the scheduling stage, scoped by who is asking."""
