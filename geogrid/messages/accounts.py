"""Chinese for the accounts messages, keyed by their English templates (merged into :data:`geogrid.messages_zh.ZH`)."""

from __future__ import annotations

ZH: dict[str, str] = {
    # geogrid/accounts
    "grid {grid} (community {community}) is outside the areas granted to {name}":
        "网格 {grid}（社区 {community}）不在授予 {name} 的范围内",
    "role must be one of {roles}": "角色必须是 {roles} 之一",
    "an account name is 1 to 100 characters": "账号名为 1 到 100 个字符",
    "account '{name}' exists already": "账号 '{name}' 已存在",
    "no account '{name}'": "没有账号 '{name}'",
    "no active key '{prefix}'": "没有有效的密钥 '{prefix}'",
    # geogrid/cli/accounts.py
    "Accounts: add, disable, reset passwords, grant areas.": "账号：新增、停用、重置密码、授予范围。",
    "API keys for systems: add (shown once) and revoke.": "系统用的 API 密钥：新增（只显示一次）和吊销。",
    "A street or community code the account may act in (repeatable).": "账号可操作的街道或社区代码（可重复）。",
    "account {name} ({role}) created": "已创建账号 {name}（{role}）",
    "Create an account (role: {roles}).": "创建账号（角色：{roles}）。",
    "account {name} disabled": "账号 {name} 已停用",
    "Disable an account: its sessions end and its keys stop working.": "停用账号：其会话结束，密钥失效。",
    "account {name} enabled": "账号 {name} 已启用",
    "Enable a disabled account.": "启用已停用的账号。",
    "password of {name} reset": "{name} 的密码已重置",
    "Set a new password (the account's sessions end).": "设置新密码（该账号的会话结束）。",
    "account {name} may act in {areas}": "账号 {name} 可操作 {areas}",
    "Let an account act in more streets or communities.": "允许账号操作更多街道或社区。",
    "role": "角色",
    "disabled": "已停用",
    "Every account with its role and areas.": "所有账号及其角色和范围。",
    "keep this key now: it is not stored and cannot be shown again": "请立即保存此密钥：系统不保存明文，无法再次显示",
    "A new API key for an account, printed once on stdout.": "为账号生成新的 API 密钥，只在标准输出打印一次。",
    "key {prefix} of {name} revoked": "{name} 的密钥 {prefix} 已吊销",
    "Revoke a key by its prefix (the 8 characters after gg_).": "按前缀（gg_ 之后的 8 个字符）吊销密钥。",
    "when": "时间",
    "client address": "客户端地址",
    "who": "操作人",
    "action": "操作",
    "area": "区域",
    "target": "对象",
    "The audit log of writes, newest first, filtered by area, user and date.":
        "写操作审计日志，最新在前，可按区域、用户和日期筛选。",
    "password": "密码",
    "a password has at least 8 characters": "密码至少 8 个字符",
    "Account name.": "账号名。",
    "Password (asked when absent).": "密码（未给出时提示输入）。",
    "A system account that signs in by key.": "用密钥登录的系统账号。",
    "Requests per minute for this key (default: the GEOGRID_RATE_LIMIT setting).":
        "此密钥每分钟请求数（默认：GEOGRID_RATE_LIMIT 设置）。",
    "Key prefix.": "密钥前缀。",
    "Street or community code (a prefix).": "街道或社区代码（前缀）。",
    "Account name (cli:USER for commands).": "账号名（命令行操作为 cli:用户）。",
    "e.g. plan_apply, import, user_add.": "例如 plan_apply、import、user_add。",
    "First day, YYYY-MM-DD.": "起始日期，YYYY-MM-DD。",
    "Last day, YYYY-MM-DD.": "截止日期，YYYY-MM-DD。",
    "Print the entries as JSON on stdout.": "以 JSON 输出到标准输出。",
    "{n} audit entries": "{n} 条审计记录",
    "expected a date YYYY-MM-DD, not '{value}'": "应为日期 YYYY-MM-DD，而不是 '{value}'",
    "no admin account yet: create one with `geogrid users add NAME --role admin`, then sign in at /login to plan "
    "and apply": "还没有管理员账号：请用 `geogrid users add 名称 --role admin` 创建，然后在 /login 登录以规划和应用",
    # api/routers/accounts.py, api/security.py
    "wrong account name or password": "账号名或密码错误",
    "expected a name and a password": "需要账号名和密码",
    "too many sign-in attempts; retry in {seconds} s": "登录尝试过多，请 {seconds} 秒后重试",
    "Sign in to geogrid": "登录 geogrid",
    "Account": "账号",
    "Password": "密码",
    "Sign in": "登录",
    'expected JSON {{"name": ..., "password": ...}}': '需要 JSON {{"name": ..., "password": ...}}',
    "the API key or token is not valid (revoked, expired or mistyped)":
        "API 密钥或令牌无效（已吊销、已过期或输入有误）",
    "requests from {origin} are not allowed": "不接受来自 {origin} 的请求",
    "too many requests: at most {limit} a minute; retry in {seconds} s":
        "请求过多：每分钟最多 {limit} 次，请 {seconds} 秒后重试",
    "role {role} may not do this (needs '{permission}')": "角色 {role} 无权执行此操作（需要 '{permission}' 权限）",
    "sign in first": "请先登录",
    "the CSRF token is missing or wrong: reload the page": "CSRF 令牌缺失或错误：请重新加载页面",
    "sign in first: this needs the '{permission}' permission": "请先登录：此操作需要 '{permission}' 权限",
}
