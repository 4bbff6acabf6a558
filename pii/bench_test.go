package pii

import "testing"

// benchClean is a typical product search, 59 bytes, with no personal data.
const benchClean = "nike air max 270 running shoes 男款 size 42 黑色 包邮"

func BenchmarkRedactClean(b *testing.B) {
	b.SetBytes(int64(len(benchClean)))
	b.ReportAllocs()
	for b.Loop() {
		Redact(benchClean)
	}
}

func BenchmarkRedactHit(b *testing.B) {
	const s = "请联系 13800138000 或 zhang.wei@example.com 改地址"
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		Redact(s)
	}
}

func BenchmarkReduceUserAgent(b *testing.B) {
	const ua = "Mozilla/5.0 (Linux; Android 13; V2227A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MMWEBID/2247 MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64"
	b.ReportAllocs()
	for b.Loop() {
		ReduceUserAgent(ua)
	}
}
