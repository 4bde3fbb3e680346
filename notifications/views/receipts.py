import json
import logging
import re

from django.conf import settings
from django.http import Http404, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .. import services

logger = logging.getLogger(__name__)

OUT_ID = re.compile(r"^delivery-(\d+)$")


@csrf_exempt
@require_POST
def aliyun_sms_report(request, token: str):
    """Aliyun SMS delivery reports (SmsReport, HTTP batch push).

    Aliyun does not sign these pushes, so the URL carries a secret token
    (ALIYUN_SMS_REPORT_TOKEN); without it configured the endpoint does not exist.
    """
    expected = settings.ALIYUN_SMS_REPORT_TOKEN
    if not expected or not constant_time_compare(token, expected):
        raise Http404
    try:
        reports = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"code": 1, "msg": "invalid JSON"}, status=400)
    if not isinstance(reports, list):
        return JsonResponse({"code": 1, "msg": "expected a list"}, status=400)
    applied = 0
    for report in reports:
        if not isinstance(report, dict):
            continue
        match = OUT_ID.match(str(report.get("out_id", "")))
        if not match:
            continue
        delivered = report.get("success") in (True, "true", "True")
        error = f"{report.get('err_code', '')} {report.get('err_msg', '')}".strip()
        applied += services.delivery_record_receipt(
            delivery_id=int(match.group(1)), delivered=delivered, error=error
        )
    logger.info("aliyun sms report: %d of %d applied", applied, len(reports))
    return JsonResponse({"code": 0, "msg": "成功"})
