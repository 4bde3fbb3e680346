from groupbuy.exceptions import DomainError


def add_domain_error(form, error: DomainError) -> None:
    """Show a refused business rule next to its field, or above the form."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)
