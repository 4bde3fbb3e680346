"""One settings module for every run mode, driven by environment variables.

See .env.example for the variables. With nothing set it runs the embedded mode:
SQLite file, Celery tasks executed eagerly in-process, console e-mail and SMS.
"""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
_INSECURE_DEV_KEY = "django-insecure-embedded-mode-only-never-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=_INSECURE_DEV_KEY if DEBUG else "")
if not SECRET_KEY:
    raise environ.ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_fsm",
    "allauth",
    "allauth.account",
    "groupbuy",
    "accounts",
    "notifications",
    "catalog",
    "scheduling",
    "orders",
    "fulfillment",
    "sandboxpay",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "accounts.middleware.RoleMiddleware",
]

ROOT_URLCONF = "groupbuy.urls"
WSGI_APPLICATION = "groupbuy.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.roles",
                "notifications.context_processors.unread",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# allauth: members sign up and log in with phone + SMS code; everyone may also use
# e-mail + password once they set one.
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"login": "accounts.forms.PhoneOrPasswordLoginForm"}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"phone", "email"}
ACCOUNT_SIGNUP_FIELDS = ["phone*"]
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_PHONE_VERIFICATION_ENABLED = True
ACCOUNT_PHONE_VERIFICATION_SUPPORTS_RESEND = True
# SMS codes in China are six digits; three wrong tries end the attempt (allauth default).
ACCOUNT_PHONE_VERIFICATION_CODE_FORMAT = {"numeric": True, "length": 6, "dashed": False}
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = True

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
# locale_overrides holds our wording of third-party strings (django-allauth): `make messages`
# regenerates locale/ from our source and would drop them there.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_overrides"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)
# Product pictures are checked and resized by catalog.services; refuse anything larger early.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

CACHES = {
    "default": env.cache("CACHE_URL", default="locmemcache://"),
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Tuangou <noreply@tuangou.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# SMS: a backend class; console in the embedded mode, locmem in tests.
SMS_BACKEND = env.str("SMS_BACKEND", default="notifications.sms.ConsoleSmsBackend")
# Aliyun SMS (SMS_BACKEND=notifications.sms.AliyunSmsBackend): Dysmsapi SendSms.
ALIYUN_SMS_ACCESS_KEY_ID = env.str("ALIYUN_SMS_ACCESS_KEY_ID", default="")
ALIYUN_SMS_ACCESS_KEY_SECRET = env.str("ALIYUN_SMS_ACCESS_KEY_SECRET", default="")
ALIYUN_SMS_SIGN_NAME = env.str("ALIYUN_SMS_SIGN_NAME", default="")
ALIYUN_SMS_ENDPOINT = env.str("ALIYUN_SMS_ENDPOINT", default="https://dysmsapi.aliyuncs.com/")
ALIYUN_SMS_REGION = env.str("ALIYUN_SMS_REGION", default="cn-hangzhou")
# Message kind -> TemplateCode; "default" is used for kinds without their own template.
ALIYUN_SMS_TEMPLATES = env.json("ALIYUN_SMS_TEMPLATES", default={})
SMS_HTTP_TIMEOUT = env.float("SMS_HTTP_TIMEOUT", default=10.0)
# Webhook URLs a community may give for its WeChat Work group robot.
WECHAT_ROBOT_ALLOWED_PREFIXES = env.list(
    "WECHAT_ROBOT_ALLOWED_PREFIXES",
    default=["https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key="],
)

# Celery: with no broker configured, tasks run eagerly in-process (embedded mode).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2}
CELERY_TIMEZONE = TIME_ZONE
# A broker outage must not hold up the request that wrote the outbox: give up quickly,
# the sweeper queues what could not be queued.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BEAT_SCHEDULE = {
    "beat-heartbeat": {
        "task": "groupbuy.tasks.beat_heartbeat",
        "schedule": 60.0,
    },
    # Closing schedules runs after the unpaid-order expiry, in the same task.
    "orders-expire-due-and-close-schedules": {
        "task": "orders.expire_due_and_close_schedules",
        "schedule": 60.0,
    },
    "orders-retry-due-refunds": {
        "task": "orders.retry_due_refunds",
        "schedule": 60.0,
    },
    "fulfillment-prepare-purchase-orders": {
        "task": "fulfillment.prepare_purchase_orders",
        "schedule": 5 * 60.0,
    },
    "fulfillment-auto-complete-orders": {
        "task": "fulfillment.auto_complete_orders",
        "schedule": 60 * 60.0,
    },
    "sandboxpay-resend-due-notifications": {
        "task": "sandboxpay.resend_due_notifications",
        "schedule": 60.0,
    },
    "catalog-expire-due": {
        "task": "catalog.expire_due",
        "schedule": 15 * 60.0,
    },
    "notifications-sweep-due-deliveries": {
        "task": "notifications.sweep_due_deliveries",
        "schedule": 60.0,
    },
}

# Notifications (see notifications/services.py)
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=3)
NOTIFICATIONS_RETRY_BASE_SECONDS = env.int("NOTIFICATIONS_RETRY_BASE_SECONDS", default=30)
NOTIFICATIONS_REQUEUE_LEASE_SECONDS = 120
# Secret path segment of the Aliyun SMS delivery-report URL; unset: no such endpoint.
ALIYUN_SMS_REPORT_TOKEN = env.str("ALIYUN_SMS_REPORT_TOKEN", default="")
# No SMS from 22:00 to 08:00 local time (sign-in codes are not notifications and still go).
NOTIFICATIONS_SMS_QUIET_HOURS = (22, 8)

# Production hardening; all on when DEBUG is off.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

PAGINATE_BY = 20

# Orders and payments (see orders/services)
ORDER_PAYMENT_WINDOW_MINUTES = env.int("ORDER_PAYMENT_WINDOW_MINUTES", default=15)
# An order whose payment is at the provider is expired by the sweeper (which asks the
# provider first); pages expire it lazily only after this extra grace.
ORDER_PAYMENT_GRACE_MINUTES = env.int("ORDER_PAYMENT_GRACE_MINUTES", default=5)
PAYMENT_PROVIDER = env.str("PAYMENT_PROVIDER", default="sandbox")
PAYMENT_PROVIDERS = {"sandbox": "sandboxpay.provider.SandboxProvider"}
# The sandbox gateway signs its notifications with this key (HMAC-SHA256).
SANDBOX_PAY_SECRET = env.str("SANDBOX_PAY_SECRET", default="sandbox-" + SECRET_KEY[:32])
REFUND_MAX_ATTEMPTS = env.int("REFUND_MAX_ATTEMPTS", default=6)
REFUND_RETRY_BASE_SECONDS = env.int("REFUND_RETRY_BASE_SECONDS", default=30)

# Fulfilment (see fulfillment/services)
# Wrong pickup codes a verifier may type within the lock window before having to wait.
PICKUP_CODE_MAX_FAILURES = env.int("PICKUP_CODE_MAX_FAILURES", default=10)
PICKUP_CODE_LOCK_MINUTES = env.int("PICKUP_CODE_LOCK_MINUTES", default=15)
# Picked-up orders the member did not confirm complete this many days later.
ORDER_AUTO_COMPLETE_DAYS = env.int("ORDER_AUTO_COMPLETE_DAYS", default=2)
