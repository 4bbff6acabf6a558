package web

import "github.com/candorhq/candor"

// text is the one catalog of the words people see, in each language: the
// portal's here, the console's (text_console.go), the audit page's
// (text_audit.go), the words for Candor's codes (text_words.go), the demo
// shop's (demo.go, under "demo_") and the access report's
// (text_report.go, under "report_"). init merges the parts; a key in two
// parts is a mistake that stops the program at start.
var text = map[string]map[string]string{
	candor.LangEN: {
		"skip": "Skip to content", "nav": "Main", "portal": "Privacy portal", "console": "Candor console", "footer": "Powered by Candor: your data, your choice.",
		"back": "Back", "error": "Something went wrong",
		"err_internal": "Something went wrong on our side. Please try again in a moment.", "err_invalid": "That was not valid.",
		"err_unauthorized": "Please sign in again.", "err_forbidden": "You may not do this.", "err_notfound": "Not found.",
		"err_conflict": "That conflicts with what we hold.", "err_busy": "Too many attempts. Please wait a few minutes and try again.",
		"err_gone": "This person's data was erased.", "err_unavailable": "The service is unavailable for a moment. Please try again.",
		"err_csrf":       "This form has expired or did not come from this site. Go back, reload the page and try again.",
		"err_insecure":   "This form cannot work here: the page was opened over plain HTTP at an address other than localhost, so the browser refused the secure cookie the form needs. Open it over HTTPS, or on the server's own machine at localhost.",
		"insecure":       "This page was opened over plain HTTP at an address other than localhost. Browsers keep this site's secure cookies only over HTTPS (or at localhost), so signing in and every form here will fail. Open it over HTTPS — start Candor with CANDOR_TLS_CERT and CANDOR_TLS_KEY naming a certificate and its key, or put it behind a proxy that terminates TLS — or on the server's own machine at http://localhost.",
		"err_identifier": "Enter the e-mail address or mobile number you gave us.",
		"err_code":       "That code is wrong, used or expired. Check it, or ask for a new one.",
		"err_too_large":  "This form sent more than it may. Go back and shorten it.",
		"rectify_note":   "To change an ID number, write to",
		"change":         "Change your e-mail or phone", "change_intro": "We send a code to the new address or number; it replaces the old one once you enter the code.",
		"change_kind": "What to change", "change_value": "New address or number",
		"send_change": "Send a code to the new one", "change_title": "Confirm your new address", "change_sent": "We sent a code to",
		"confirm_change": "Confirm", "done_changed": "Your new address is on file; the old one was removed.",
		"err_change_taken": "That address or number is used by another account. Write to us if it is yours.",
		"err_rectify":      "Choose what to correct and enter the new value.", "err_confirm": "Tick the box to confirm the erasure.",
		"err_object": "Choose at least one purpose to object to.", "err_request": "Your request could not be filed:",
		"expired":      "Your session has ended. Please sign in again.",
		"erased_done":  "Your data was erased. Everything we held about you is gone, and the recipients that received some of it were told to delete it.",
		"signin_title": "See and control your data", "signin_intro": "Enter the e-mail address or mobile number you gave us. We will send a one-time code to it.",
		"identifier": "E-mail address or mobile number", "send_code": "Send me a code",
		"signin_note": "If we hold this address or number, a code is on its way. We answer the same way either way, so nobody can use this page to find out whether someone is a customer.",
		"code_title":  "Enter your code", "code_intro": "We sent a 6-digit code. It works once, for 10 minutes.", "code": "Code", "verify": "Sign in", "new_code": "Ask for a new code",
		"home_title": "Your data", "home_intro": "Everything we hold about you, what we may do with it, and who received it. Jump to:",
		"held": "What we hold", "identifiers": "How we recognize you", "value": "Value", "none": "None.", "fields": "Information we hold",
		"field": "Information", "used_for": "Used for", "source": "Where it came from", "kept_until": "Kept until", "sensitive": "sensitive",
		"consents": "Your choices", "consents_intro": "Switch a purpose off to withdraw your consent: it applies at once. Services that do not depend on consent stay available.",
		"separate": "asked separately", "save_choices": "Save my choices", "history": "History of your choices", "when": "When", "purpose": "Purpose",
		"choice": "Choice", "channel": "Where", "notice_version": "Notice version",
		"decisions": "What we may do with your data now", "allowed_now": "Allowed now", "why": "Why", "yes": "yes", "no": "no",
		"automated": "Automated decisions", "applies": "applies to you", "not_applies": "does not apply to you",
		"recipients": "Who received your data", "recipient": "Recipient", "what": "What", "no_recipients": "Nobody has received your data.",
		"runs": "Where your data was used", "run_list": "a list of customers", "run_times": "times that day", "no_runs": "Your data was not used in any campaign or list.",
		"activity": "Your activity", "event": "Event", "count": "Count", "first": "First", "last": "Last",
		"export": "Download your data", "prepare_export": "Prepare my export (JSON and CSV)", "download": "Download my data",
		"download_note": "This link works once, for 10 minutes, and only in this browser session.",
		"your_requests": "Your requests", "request": "Request", "type": "Type", "status": "Status", "received": "Received", "due": "Answer due by",
		"rectify": "Correct something", "new_value": "Correct value", "ask_rectify": "Ask for the correction",
		"object": "Object to a use", "object_which": "Stop using my data for", "ask_object": "Object",
		"restrict": "Restrict processing", "restrict_intro": "We keep your data but stop using it, except where the law requires.",
		"ask_restrict": "Restrict processing", "ask_lift": "Lift the restriction", "restricted": "You restricted the processing of your data: only what the law requires continues.",
		"erase": "Erase my data", "erase_intro": "We destroy the key that protects your data, so it can never be read again, and tell everyone who received some of it to delete it. This cannot be undone.",
		"erase_confirm": "I understand: erase everything about me.", "erase_suppress": "Remember my e-mail and number (as a one-way hash) so that you never contact me again.",
		"ask_erase": "Erase my data", "signout": "Sign out",
		"done_consents": "Your choices are saved. They apply from now on.", "done_request": "Your request is filed. You can follow it below.",
		"done_export": "Your export is ready.",
		"type_access": "access", "type_export": "export", "type_rectify": "correction", "type_erase": "erasure", "type_restrict": "restriction", "type_object": "objection", "type_withdraw": "withdrawal",
		"status_received": "received", "status_verifying": "waiting for verification", "status_in_progress": "in progress", "status_done": "done", "status_refused": "refused",
	},
	candor.LangZH: {
		"skip": "跳到正文", "nav": "主导航", "portal": "个人信息中心", "console": "Candor 管理台", "footer": "由 Candor 提供：您的信息，由您做主。",
		"back": "返回", "error": "出了点问题",
		"err_internal": "我们这边出了问题，请稍后再试。", "err_invalid": "输入无效。",
		"err_unauthorized": "请重新登录。", "err_forbidden": "您无权进行此操作。", "err_notfound": "未找到。",
		"err_conflict": "与我们持有的信息冲突。", "err_busy": "尝试次数过多，请几分钟后再试。",
		"err_gone": "此人的个人信息已被删除。", "err_unavailable": "服务暂时不可用，请稍后再试。",
		"err_csrf":       "此表单已过期或并非来自本站。请返回、刷新页面后重试。",
		"err_insecure":   "此表单在这里无法使用：页面是通过普通 HTTP 在 localhost 以外的地址打开的，浏览器因此拒绝了表单所需的安全 Cookie。请通过 HTTPS 打开，或在服务器本机上通过 localhost 打开。",
		"insecure":       "此页面是通过普通 HTTP 在 localhost 以外的地址打开的。浏览器只在 HTTPS（或 localhost）下保存本站的安全 Cookie，因此登录和这里的所有表单都会失败。请通过 HTTPS 打开——启动 Candor 时用 CANDOR_TLS_CERT 和 CANDOR_TLS_KEY 指定证书及其私钥，或将其置于终止 TLS 的代理之后——或在服务器本机上通过 http://localhost 打开。",
		"err_identifier": "请输入您提供给我们的电子邮箱或手机号码。",
		"err_code":       "验证码错误、已使用或已过期。请核对，或重新获取。",
		"err_too_large":  "此表单提交的内容过多，请返回删减后重试。",
		"rectify_note":   "如需更改证件号码，请联系",
		"change":         "更改电子邮箱或手机号码", "change_intro": "我们会向新的邮箱或号码发送验证码，输入验证码后即替换原有的。",
		"change_kind": "要更改的信息", "change_value": "新的邮箱或号码",
		"send_change": "向新的地址发送验证码", "change_title": "确认新的邮箱或号码", "change_sent": "我们已将验证码发送至",
		"confirm_change": "确认", "done_changed": "新的邮箱或号码已登记，原有的已删除。",
		"err_change_taken": "该邮箱或号码已被另一个账户使用。如属于您，请联系我们。",
		"err_rectify":      "请选择要更正的信息并填写新内容。", "err_confirm": "请勾选确认删除。",
		"err_object": "请至少选择一个您拒绝的处理目的。", "err_request": "您的请求未能提交：",
		"expired":      "您的会话已结束，请重新登录。",
		"erased_done":  "您的个人信息已删除。我们持有的关于您的全部信息已不复存在，接收过部分信息的第三方也已被通知删除。",
		"signin_title": "查看并管理您的个人信息", "signin_intro": "请输入您提供给我们的电子邮箱或手机号码，我们将向其发送一次性验证码。",
		"identifier": "电子邮箱或手机号码", "send_code": "发送验证码",
		"signin_note": "如果我们持有此邮箱或号码，验证码已在路上。无论是否持有，我们的回答都相同，任何人都无法借此页面查知某人是否是我们的客户。",
		"code_title":  "输入验证码", "code_intro": "我们已发送 6 位验证码，10 分钟内有效，仅可使用一次。", "code": "验证码", "verify": "登录", "new_code": "重新获取验证码",
		"home_title": "您的个人信息", "home_intro": "我们持有的关于您的全部信息、目前可进行的处理以及接收过的第三方。跳转到：",
		"held": "我们持有的信息", "identifiers": "我们识别您的方式", "value": "内容", "none": "无。", "fields": "我们持有的信息",
		"field": "信息", "used_for": "处理目的", "source": "来源", "kept_until": "保存至", "sensitive": "敏感个人信息",
		"consents": "您的选择", "consents_intro": "关闭某个目的即撤回同意，立即生效。不依赖同意的服务仍可正常使用。",
		"separate": "单独同意", "save_choices": "保存我的选择", "history": "您的选择记录", "when": "时间", "purpose": "目的",
		"choice": "选择", "channel": "渠道", "notice_version": "告知版本",
		"decisions": "目前可对您的信息进行的处理", "allowed_now": "当前是否允许", "why": "原因", "yes": "是", "no": "否",
		"automated": "自动化决策", "applies": "适用于您", "not_applies": "不适用于您",
		"recipients": "接收过您个人信息的第三方", "recipient": "接收方", "what": "提供的信息", "no_recipients": "没有第三方接收过您的个人信息。",
		"runs": "您的信息被用于", "run_list": "客户名单", "run_times": "次（当天）", "no_runs": "您的信息未被用于任何营销活动或名单。",
		"activity": "您的行为记录", "event": "事件", "count": "次数", "first": "首次", "last": "最近",
		"export": "下载您的个人信息", "prepare_export": "准备导出（JSON 和 CSV）", "download": "下载我的个人信息",
		"download_note": "此链接仅可使用一次，10 分钟内有效，且仅限本次会话。",
		"your_requests": "您的请求", "request": "请求", "type": "类型", "status": "状态", "received": "收到时间", "due": "答复期限",
		"rectify": "更正信息", "new_value": "正确内容", "ask_rectify": "申请更正",
		"object": "拒绝某项处理", "object_which": "停止将我的信息用于", "ask_object": "拒绝",
		"restrict": "限制处理", "restrict_intro": "我们保留您的信息但停止使用，法律要求的除外。",
		"ask_restrict": "限制处理", "ask_lift": "解除限制", "restricted": "您已限制对您个人信息的处理：仅继续法律要求的处理。",
		"erase": "删除我的个人信息", "erase_intro": "我们将销毁保护您信息的密钥，使其永远无法再被读取，并通知所有接收过部分信息的第三方删除。此操作无法撤销。",
		"erase_confirm": "我已了解：删除关于我的全部信息。", "erase_suppress": "记住我的邮箱和号码（以单向哈希形式），今后不再联系我。",
		"ask_erase": "删除我的个人信息", "signout": "退出",
		"done_consents": "您的选择已保存，即时生效。", "done_request": "您的请求已提交，可在下方查看进度。",
		"done_export": "您的导出文件已准备好。",
		"type_access": "查阅", "type_export": "导出", "type_rectify": "更正", "type_erase": "删除", "type_restrict": "限制处理", "type_object": "拒绝处理", "type_withdraw": "撤回同意",
		"status_received": "已收到", "status_verifying": "等待身份验证", "status_in_progress": "处理中", "status_done": "已完成", "status_refused": "已拒绝",
	},
}

func init() {
	merge := func(prefix string, part map[string]map[string]string) {
		for l, words := range part {
			if text[l] == nil {
				panic("web: catalog language " + l + " unknown")
			}
			for k, v := range words {
				if _, dup := text[l][prefix+k]; dup {
					panic("web: catalog key " + prefix + k + " defined twice")
				}
				text[l][prefix+k] = v
			}
		}
	}
	merge("", consoleText)
	merge("", campaignText)
	merge("", auditText)
	merge("", wordsText)
	merge("demo_", demoText)
	merge("report_", reportText)
}
