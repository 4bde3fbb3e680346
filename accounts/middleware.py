from django.utils import translation

from groupbuy.roles import Role

from .selectors import user_roles

ACTIVE_ROLE_SESSION_KEY = "active_role"


class UserLanguageMiddleware:
    """A signed-in user's saved language wins over the browser's Accept-Language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        language = getattr(user, "preferred_language", "") if user else ""
        if language and language != request.LANGUAGE_CODE:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


class RoleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        roles = user_roles(request.user)
        request.roles = roles
        chosen = request.session.get(ACTIVE_ROLE_SESSION_KEY) if roles else None
        request.active_role = Role(chosen) if chosen in roles else (roles[-1] if roles else None)
        return self.get_response(request)
