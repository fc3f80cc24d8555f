"""What the user must read: the documented words, matched loosely, in English and Chinese.

B-CLI-06's "Still working", B-ERR-05's remedies and the other phrases the properties look for. A
client may phrase them its own way; these patterns accept the usual wordings.
"""

from __future__ import annotations

import re

from contracts.wording import TEMPORARY_ISSUE_MENTION

STILL_WORKING = re.compile(r"still working|仍在(?:处理|进行|生成)", re.IGNORECASE)
NOISE = TEMPORARY_ISSUE_MENTION  # B-SSE-12: any mention, in either language
RETRY_OFFER = re.compile(r"again|retry|重试|再试", re.IGNORECASE)
TRY_LATER = re.compile(r"again|later|稍后|重试", re.IGNORECASE)
VIDEO_READY = re.compile(r"ready|\.mp4|saved|downloaded|已就绪|已保存|完成", re.IGNORECASE)
GENERATE_FIRST = re.compile(r"generat|nothing to export|first|先生成|还没有", re.IGNORECASE)
CANNOT_CHECK = re.compile(r"can(?:'|no)t check|cannot check|unable to check|无法查询", re.IGNORECASE)
RAW_JSON = ('{"', '"code"')
TOKEN_LEAK = re.compile(r"nmv_usr_(?!\*)")
CREDITS_BLAME = re.compile(
    r"out of credits|insufficient credits|not enough credits|top.?up|buy (?:more )?credits|积分不足",
    re.IGNORECASE,
)

#: B-ERR-05: what the user must be told when the error persists through the one documented retry.
REMEDIES: dict[int, tuple[re.Pattern[str], str]] = {
    1001: (re.compile(r"token|令牌|重新登录", re.IGNORECASE), "re-authenticate (a new token)"),
    1002: (re.compile(r"session|会话|项目", re.IGNORECASE), "a new session"),
    2001: (re.compile(r"register|top.?up|bind=|注册|充值", re.IGNORECASE), "the bind link or a top-up"),
    4001: (re.compile(r"mp4", re.IGNORECASE), "the supported formats"),
    4002: (re.compile(r"compress|trim|压缩|裁剪", re.IGNORECASE), "compress or trim the file"),
    400: (re.compile(r"client.?id", re.IGNORECASE), "a client id"),
    402: (
        re.compile(r"plan|subscription|upgrade|套餐|订阅|会员", re.IGNORECASE),
        "a plan upgrade, not credits",
    ),
    429: (re.compile(r"30\s*s|30 sec|rate.?limit|too many|请求过多", re.IGNORECASE), "wait 30 s"),
}
TOP_UP = re.compile(r"top.?up|充值|buy|purchase", re.IGNORECASE)
