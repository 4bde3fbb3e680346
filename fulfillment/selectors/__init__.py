"""Every read of the fulfilment stage, scoped to the user asking (others' objects: 404)."""
