package web

import "github.com/candorhq/candor"

// auditText holds the words of the console's audit page (its filter and
// its pages); init merges them into text.
var auditText = map[string]map[string]string{
	candor.LangEN: {
		"audit_filter":         "Filter the audit log",
		"audit_f_actor":        "Who (an actor id, such as staff:stf_… or apikey:key_…)",
		"audit_f_action":       "Action (such as read, lookup or subject.erase)",
		"audit_f_subject":      "Subject id (sub_…)",
		"audit_f_purpose":      "Purpose",
		"audit_any_purpose":    "Any purpose",
		"audit_purpose_rights": "Data-subject requests (rights)",
		"audit_apply":          "Show",
		"audit_clear":          "Clear the filter",
		"audit_filter_note":    "Ids only: the filter never takes an e-mail address or a phone number. Each field must match exactly; filled-in fields combine.",
		"audit_range":          "Shown here, newest first:",
		"audit_head":           "The log ends at entry",
		"audit_reason":         "Reason",
		"audit_filtered":       "Only the entries that match the filter are shown.",
		"audit_none":           "No entries here.",
		"audit_pages":          "Pages of the audit log",
		"audit_latest":         "Latest",
		"audit_newer":          "Newer",
		"audit_older":          "Older",
		"err_audit_filter":     "The filter was not valid, so no entries are shown. The refused values were not kept:",
		"err_audit_actor":      "Who: letters, digits and : . _ - only, at most 120 characters (an actor id, never an e-mail address).",
		"err_audit_action":     "Action: lower-case letters, digits and . _ - only, at most 64 characters.",
		"err_audit_subject":    "Subject id: sub_ followed by 26 characters (a–z, 2–7).",
		"err_audit_purpose":    "Purpose: not a purpose of the policy.",
		"err_audit_before":     "Page: “before” must be a positive entry number, and not given together with “after”.",
		"err_audit_after":      "Page: “after” must be a positive entry number, and not given together with “before”.",
	},
	candor.LangZH: {
		"audit_filter":         "筛选审计日志",
		"audit_f_actor":        "操作者（操作者编号，如 staff:stf_… 或 apikey:key_…）",
		"audit_f_action":       "处理（如 read、lookup 或 subject.erase）",
		"audit_f_subject":      "个人编号（sub_…）",
		"audit_f_purpose":      "目的",
		"audit_any_purpose":    "全部目的",
		"audit_purpose_rights": "个人权利请求（rights）",
		"audit_apply":          "显示",
		"audit_clear":          "清除筛选",
		"audit_filter_note":    "仅限编号：筛选从不接受电子邮箱或手机号码。每一项须完全匹配；填写的多项同时适用。",
		"audit_range":          "本页显示（最新在前）：",
		"audit_head":           "日志最新条目编号：",
		"audit_reason":         "理由",
		"audit_filtered":       "仅显示符合筛选条件的条目。",
		"audit_none":           "此处没有条目。",
		"audit_pages":          "审计日志分页",
		"audit_latest":         "最新",
		"audit_newer":          "较新",
		"audit_older":          "较早",
		"err_audit_filter":     "筛选条件无效，因此不显示条目。被拒绝的内容未保留：",
		"err_audit_actor":      "操作者：只能包含字母、数字和 : . _ -，最多 120 个字符（操作者编号，绝不是电子邮箱）。",
		"err_audit_action":     "处理：只能包含小写字母、数字和 . _ -，最多 64 个字符。",
		"err_audit_subject":    "个人编号：sub_ 后跟 26 个字符（a–z、2–7）。",
		"err_audit_purpose":    "目的：不是政策中的处理目的。",
		"err_audit_before":     "分页：“before”须为正的条目编号，且不能与“after”同时使用。",
		"err_audit_after":      "分页：“after”须为正的条目编号，且不能与“before”同时使用。",
	},
}

func init() {
	for l, words := range auditText {
		for k, v := range words {
			text[l][k] = v
		}
	}
}
