from groupbuy.roles import ROLE_HOME_URL_NAMES


def roles(request):
    held = getattr(request, "roles", [])
    return {
        "user_roles": [(role, role.label, ROLE_HOME_URL_NAMES[role]) for role in held],
        "active_role": getattr(request, "acting_role", None)
        or getattr(request, "active_role", None),
    }
