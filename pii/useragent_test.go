package pii

import "testing"

func TestReduceUserAgent(t *testing.T) {
	for _, tt := range []struct {
		name, ua string
		want     Agent
	}{
		{
			"Chrome on Windows",
			"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
			Agent{"Chrome", "Windows", "desktop"},
		},
		{
			"Chrome on macOS",
			"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
			Agent{"Chrome", "macOS", "desktop"},
		},
		{
			"Safari on macOS",
			"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
			Agent{"Safari", "macOS", "desktop"},
		},
		{
			"Safari on iPhone",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
			Agent{"Safari", "iOS", "mobile"},
		},
		{
			"Safari on iPad",
			"Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
			Agent{"Safari", "iPadOS", "tablet"},
		},
		{
			"Chrome on iPhone",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
			Agent{"Chrome", "iOS", "mobile"},
		},
		{
			"Chrome on Android",
			"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
			Agent{"Chrome", "Android", "mobile"},
		},
		{
			"Chrome on an Android tablet",
			"Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Safari/537.36",
			Agent{"Chrome", "Android", "tablet"},
		},
		{
			"Samsung Internet",
			"Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
			Agent{"Samsung Internet", "Android", "mobile"},
		},
		{
			"WeChat on Android",
			"Mozilla/5.0 (Linux; Android 13; V2227A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MMWEBID/2247 MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64",
			Agent{"WeChat", "Android", "mobile"},
		},
		{
			"WeChat on iPhone",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN",
			Agent{"WeChat", "iOS", "mobile"},
		},
		{
			"an app's WebView on Android",
			"Mozilla/5.0 (Linux; Android 12; M2012K11AC Build/SKQ1.211006.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/96.0.4664.104 Mobile Safari/537.36 aweme_260400",
			Agent{"Other", "Android", "mobile"},
		},
		{
			"QQ Browser on Android",
			"Mozilla/5.0 (Linux; U; Android 12; zh-cn; PEGM00 Build/SKQ1.211103.001) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/89.0.4389.72 MQQBrowser/13.4 Mobile Safari/537.36",
			Agent{"QQ Browser", "Android", "mobile"},
		},
		{
			"UC Browser on Android",
			"Mozilla/5.0 (Linux; U; Android 11; zh-CN; M2007J3SC Build/RKQ1.200826.002) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.108 UCBrowser/15.5.2.1222 Mobile Safari/537.36",
			Agent{"UC Browser", "Android", "mobile"},
		},
		{
			"Baidu app on iPhone",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 SP-engine/2.80.0 main/1.0 baiduboxapp/13.40.0.10 (Baidu; P2 16.6) NABar/1.0",
			Agent{"Baidu", "iOS", "mobile"},
		},
		{
			"Edge on Windows",
			"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
			Agent{"Edge", "Windows", "desktop"},
		},
		{
			"Opera on Windows",
			"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36 OPR/105.0.0.0",
			Agent{"Opera", "Windows", "desktop"},
		},
		{
			"Firefox on Linux",
			"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
			Agent{"Firefox", "Linux", "desktop"},
		},
		{
			"Chrome on ChromeOS",
			"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
			Agent{"Chrome", "ChromeOS", "desktop"},
		},
		{
			"HarmonyOS 4 phone",
			"Mozilla/5.0 (Linux; Android 10; HarmonyOS; NOH-AN00; HMSCore 6.12.0.302) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0.4844.88 HuaweiBrowser/14.0.2.311 Mobile Safari/537.36",
			Agent{"Other", "HarmonyOS", "mobile"},
		},
		{
			"HarmonyOS NEXT phone",
			"Mozilla/5.0 (Phone; OpenHarmony 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 ArkWeb/4.1.6.1 Mobile",
			Agent{"Chrome", "HarmonyOS", "mobile"},
		},
		{
			"HarmonyOS NEXT tablet",
			"Mozilla/5.0 (Tablet; OpenHarmony 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 ArkWeb/4.1.6.1",
			Agent{"Chrome", "HarmonyOS", "tablet"},
		},
		{
			"Cubot phone is not a bot",
			"Mozilla/5.0 (Linux; Android 9; CUBOT P30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
			Agent{"Chrome", "Android", "mobile"},
		},
		{
			"Googlebot",
			"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
			Agent{"Other", "Other", "bot"},
		},
		{
			"Googlebot smartphone",
			"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.129 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
			Agent{"Chrome", "Android", "bot"},
		},
		{
			"Baiduspider",
			"Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
			Agent{"Other", "Other", "bot"},
		},
		{"curl", "curl/8.4.0", Agent{"Other", "Other", "bot"}},
		{"python-requests", "python-requests/2.31.0", Agent{"Other", "Other", "bot"}},
		{"Go", "Go-http-client/1.1", Agent{"Other", "Other", "bot"}},
		{"node-fetch", "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", Agent{"Other", "Other", "bot"}},
		{"analytics-node", "analytics-node/6.2.0", Agent{"Other", "Other", "bot"}},
		{"empty", "", Agent{"Other", "Other", "other"}},
		{"garbage", "!!!", Agent{"Other", "Other", "other"}},
	} {
		if got := ReduceUserAgent(tt.ua); got != tt.want {
			t.Errorf("%s: ReduceUserAgent(%q) = %+v, want %+v", tt.name, tt.ua, got, tt.want)
		}
	}
}

func TestAgentWords(t *testing.T) {
	for w := range agentWords {
		if len(w) < 2 || len(w) > maxAgentWord || isDigit(w[0]) {
			t.Errorf("agentWords key %q is never looked up", w)
		}
		for i := 0; i < len(w); i++ {
			if !agentWordByte(w[i]) || 'A' <= w[i] && w[i] <= 'Z' {
				t.Errorf("agentWords key %q is not one lower-case word", w)
			}
		}
	}
}
