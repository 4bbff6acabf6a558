package web

import "github.com/candorhq/candor"

// reportText holds the words of the access report's page (report.go);
// text.go merges them into text under "report_".
var reportText = map[string]map[string]string{
	candor.LangEN: {
		"title": "What we hold about you", "intro": "This report lists every personal datum held about you by", "generated": "generated",
		"request": "request", "identifiers": "How we recognize you", "kind": "Kind", "value": "Value", "none": "None.",
		"fields": "Information we hold", "field": "Field", "purposes": "Used for", "kept_until": "Kept until", "sensitive": "sensitive", "masked": "masked for your role", "source": "Where it came from",
		"decisions": "What we may do with it now", "purpose": "Purpose", "now": "Allowed now", "why": "Why", "yes": "yes", "no": "no",
		"restricted": "You restricted the processing of your data: only what the law requires continues.", "objections": "You objected to",
		"consents": "Your consents", "when": "When", "state": "Choice", "notice": "Notice version", "channel": "Where", "guardian": "by a guardian",
		"recipients": "Who received your data", "recipient": "Recipient", "what": "What", "no_recipients": "Nobody has received your data.",
		"automated": "Automated decisions", "applies": "Applies to you now", "events": "Your activity", "event": "Event", "count": "Count",
		"first": "First", "last": "Last", "export_hint": "Ask for an export to receive all of it, each event included, as JSON and CSV files.",
	},
	candor.LangZH: {
		"title": "我们持有的您的个人信息", "intro": "本报告列出以下处理者持有的您的全部个人信息：", "generated": "生成于",
		"request": "请求编号", "identifiers": "我们识别您的方式", "kind": "类型", "value": "内容", "none": "无。",
		"fields": "我们持有的信息", "field": "字段", "purposes": "处理目的", "kept_until": "保存至", "sensitive": "敏感个人信息", "masked": "按您的角色已遮蔽", "source": "来源",
		"decisions": "目前可进行的处理", "purpose": "目的", "now": "当前是否允许", "why": "原因", "yes": "是", "no": "否",
		"restricted": "您已限制对您个人信息的处理：仅继续法律要求的处理。", "objections": "您已拒绝的处理目的",
		"consents": "您的同意记录", "when": "时间", "state": "选择", "notice": "告知版本", "channel": "渠道", "guardian": "由监护人作出",
		"recipients": "接收过您个人信息的第三方", "recipient": "接收方", "what": "提供的信息", "no_recipients": "没有第三方接收过您的个人信息。",
		"automated": "自动化决策", "applies": "目前是否适用于您", "events": "您的行为记录", "event": "事件", "count": "次数",
		"first": "首次", "last": "最近", "export_hint": "如需获取全部信息（包括每一条行为记录）的 JSON 和 CSV 文件，请申请导出。",
	},
}
