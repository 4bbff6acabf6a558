package web

import "github.com/candorhq/candor"

// consoleText holds the console's words; init merges them into text.
var consoleText = map[string]map[string]string{
	candor.LangEN: {
		"console_signin": "Staff sign-in", "email": "E-mail", "password": "Password", "continue": "Continue", "confirm": "Confirm",
		"console_note": "Staff accounts are created with `candor staff add`, then by an admin here. Every sign-in and every read of personal data is in the audit log.",
		"err_signin":   "Wrong e-mail or password.", "err_totp": "Wrong or already used code.", "err_role": "Your role may not open this page.",
		"err_lookup": "Choose a purpose and give an identifier.", "err_purpose": "Refused:",
		"totp_title": "Second factor", "totp_code": "6-digit code from your authenticator app", "use_recovery": "Lost your phone? Use a recovery code",
		"recovery_code": "Recovery code", "enrol_title": "Set up your second factor",
		"enrol_intro": "Scan this code with an authenticator app (FreeOTP, Google Authenticator, 1Password…), then enter the 6-digit code it shows.",
		"qr_alt":      "QR code for your authenticator app", "enrol_secret": "Or type this key in:", "enrolled": "Your second factor is set up.",
		"recovery_title": "Your recovery codes", "recovery_intro": "Keep these codes somewhere safe. Each one lets you sign in once without your phone. They are shown only now.",
		"overview": "Overview", "requests": "Requests", "lookup": "Subject look-up", "audit": "Audit log", "policy": "Policy and notice", "staff": "Staff",
		"subjects": "People on file", "open_requests": "Open requests", "overdue_requests": "Overdue requests", "overdue": "overdue", "stuck": "stuck",
		"consent_rate": "Consent rate per purpose", "consent_rate_note": "Each point is the share of the choices recorded that day that granted the purpose (banner, portal and API). Days without choices leave a gap.",
		"granted": "Granted", "refused": "Refused or withdrawn", "rate": "Rate", "requests_due": "Requests due first", "all_requests": "All requests",
		"findings": "Minimization findings (30 days)", "findings_note": "What collection dropped, redacted or rejected: fix the tracking that sends it.",
		"item": "Item", "action": "Action", "detector": "Detector", "subject": "Subject", "actions": "Actions", "approve": "Identity checked: carry out",
		"refuse": "Refuse", "reason": "Reason, told to the person", "no_open": "No open requests.",
		"approve_note":  "Approve a request only after checking the person's identity yourself; the audit log names you.",
		"done_verified": "The request was carried out.", "done_refused": "The request was refused; the person is told the reason.",
		"lookup_intro":  "Say why first: the gate lets through only what the purpose allows your role, masks what your role may not see, and writes the read to the audit log.",
		"purpose_first": "Purpose of this look-up", "identifier_kind": "Find by", "identifier_value": "Value", "look_up": "Look up",
		"kind_subject_id": "Subject id", "kind_email": "E-mail", "kind_phone": "Phone", "kind_user_id": "User id",
		"not_found_subject": "No one found.", "decision": "Decision", "masked": "masked", "withheld": "Withheld",
		"lookup_audited": "This read is in the audit log, with you, the purpose and the fields.", "purpose_events": "Events collected for this purpose",
		"audit_ok": "The chain and its signed checkpoints verify. Entries:", "checkpoints": "checkpoints", "checked": "checked",
		"audit_broken": "The audit chain is BROKEN at entry", "audit_showing": "The latest entries:", "actor": "Who",
		"purposes": "Purposes", "basis": "Legal basis", "category": "Category", "kept": "Kept", "roles": "Roles", "role": "Role",
		"admin_all": "everything, and staff accounts", "cross_border": "abroad", "banner_preview": "The banner, as visitors see it",
		"name": "Name", "second_factor": "Second factor", "disabled": "disabled", "active": "active", "disable": "Disable", "reset_2fa": "Reset second factor",
		"add_staff": "Add a staff member", "initial_password": "Initial password (at least 12 characters)",
		"add_staff_note":   "Give the password to the person through another channel; they set up their second factor at first sign-in.",
		"done_staff_added": "The staff member was added.", "done_staff_disabled": "The account is disabled and its sessions are ended.",
		"done_staff_reset": "The second factor was reset; the person sets up a new one at next sign-in.",
	},
	candor.LangZH: {
		"console_signin": "员工登录", "email": "电子邮箱", "password": "密码", "continue": "继续", "confirm": "确认",
		"console_note": "员工账号先用 `candor staff add` 创建，之后由管理员在此添加。每次登录和每次读取个人信息都记入审计日志。",
		"err_signin":   "邮箱或密码错误。", "err_totp": "验证码错误或已使用。", "err_role": "您的角色无权打开此页面。",
		"err_lookup": "请选择处理目的并填写标识。", "err_purpose": "已拒绝：",
		"totp_title": "第二重验证", "totp_code": "身份验证器应用中的 6 位验证码", "use_recovery": "手机丢了？使用恢复码",
		"recovery_code": "恢复码", "enrol_title": "设置第二重验证",
		"enrol_intro": "用身份验证器应用（FreeOTP、Google Authenticator、1Password 等）扫描此二维码，然后输入其显示的 6 位验证码。",
		"qr_alt":      "身份验证器应用的二维码", "enrol_secret": "或手动输入此密钥：", "enrolled": "第二重验证已设置。",
		"recovery_title": "您的恢复码", "recovery_intro": "请妥善保存这些恢复码。每个恢复码可在没有手机时登录一次。仅此一次显示。",
		"overview": "概览", "requests": "请求", "lookup": "查询个人", "audit": "审计日志", "policy": "政策与告知", "staff": "员工",
		"subjects": "在档人数", "open_requests": "待处理请求", "overdue_requests": "逾期请求", "overdue": "已逾期", "stuck": "停滞",
		"consent_rate": "各目的同意率", "consent_rate_note": "每个点表示当天记录的选择中同意该目的的比例（横幅、个人信息中心和 API）。无选择的日期留空。",
		"granted": "同意", "refused": "拒绝或撤回", "rate": "同意率", "requests_due": "最先到期的请求", "all_requests": "全部请求",
		"findings": "最小化发现（30 天）", "findings_note": "采集时删除、遮盖或拒绝的内容：请修正发送它们的埋点。",
		"item": "项目", "action": "处理", "detector": "检测器", "subject": "个人", "actions": "操作", "approve": "已核实身份：执行",
		"refuse": "拒绝", "reason": "理由（将告知本人）", "no_open": "没有待处理的请求。",
		"approve_note":  "请在亲自核实本人身份后再批准请求；审计日志会记录您的名字。",
		"done_verified": "请求已执行。", "done_refused": "请求已拒绝，本人将收到理由。",
		"lookup_intro":  "先说明目的：网关只放行该目的允许您的角色查看的内容，遮盖您的角色不可见的字段，并将此次读取记入审计日志。",
		"purpose_first": "本次查询的目的", "identifier_kind": "查询方式", "identifier_value": "内容", "look_up": "查询",
		"kind_subject_id": "个人编号", "kind_email": "电子邮箱", "kind_phone": "手机号码", "kind_user_id": "用户编号",
		"not_found_subject": "未找到。", "decision": "决定", "masked": "已遮盖", "withheld": "未提供",
		"lookup_audited": "此次读取已记入审计日志，包括您、目的和字段。", "purpose_events": "为此目的采集的事件",
		"audit_ok": "哈希链及其签名检查点验证通过。条目数：", "checkpoints": "检查点", "checked": "验证于",
		"audit_broken": "审计链在此条目处断裂：", "audit_showing": "最新条目：", "actor": "操作者",
		"purposes": "处理目的", "basis": "合法性基础", "category": "类别", "kept": "保存期限", "roles": "角色", "role": "角色",
		"admin_all": "全部，以及员工账号", "cross_border": "境外", "banner_preview": "访客看到的同意横幅",
		"name": "姓名", "second_factor": "第二重验证", "disabled": "已停用", "active": "正常", "disable": "停用", "reset_2fa": "重置第二重验证",
		"add_staff": "添加员工", "initial_password": "初始密码（至少 12 个字符）",
		"add_staff_note":   "请通过其他渠道将密码告知本人；本人首次登录时设置第二重验证。",
		"done_staff_added": "员工已添加。", "done_staff_disabled": "账号已停用，其会话已结束。",
		"done_staff_reset": "第二重验证已重置；本人下次登录时重新设置。",
	},
}

func init() {
	for l, words := range consoleText {
		for k, v := range words {
			text[l][k] = v
		}
	}
}
