package pii

import "bytes"

// Agent is a user agent reduced to what marketing needs and no more. A full
// user agent string, with its versions, build numbers and device models, is
// a fingerprinting vector; the families below are shared by millions.
type Agent struct {
	// Browser is the browser family, without version: "Chrome", "Firefox",
	// "Safari", "Edge", "Opera", "Samsung Internet", "WeChat",
	// "QQ Browser", "UC Browser", "Baidu" or "Other".
	Browser string
	// OS is the operating system family: "Windows", "macOS", "iOS",
	// "iPadOS", "Android", "Linux", "ChromeOS", "HarmonyOS" or "Other".
	OS string
	// Device is "desktop", "mobile", "tablet", "bot" or "other".
	Device string
}

// Features of a user agent, one bit each, found by [scanAgent].
const (
	fWeChat uint64 = 1 << iota
	fQQ
	fUC
	fBaidu
	fSamsung
	fEdge
	fOpera
	fOtherBrowser // a browser outside the families we report
	fFirefox
	fChromeIOS
	fChrome
	fSafari
	fVersion
	fWebView
	fHarmony
	fIPad
	fIPhone
	fAndroid
	fChromeOS
	fWindows
	fMac
	fLinux
	fMobile
	fTablet
	fPhone
	fPC
	fBot
)

// agentWords maps the words of user agents, in lower case, to features.
// A word is a run of letters, digits and "-_."; "Chrome/120.0" holds the
// words "chrome" and "120.0".
var agentWords = map[string]uint64{
	"micromessenger": fWeChat,
	"mqqbrowser":     fQQ, "qqbrowser": fQQ,
	"ucbrowser": fUC, "ucweb": fUC, "ubrowser": fUC,
	"baiduboxapp": fBaidu, "baidubrowser": fBaidu, "bidubrowser": fBaidu, "baiduhd": fBaidu,
	"samsungbrowser": fSamsung,
	"edg":            fEdge, "edga": fEdge, "edgios": fEdge, "edge": fEdge,
	"opr": fOpera, "opt": fOpera, "opios": fOpera, "opera": fOpera,
	"huaweibrowser": fOtherBrowser, "miuibrowser": fOtherBrowser, "heytapbrowser": fOtherBrowser,
	"vivobrowser": fOtherBrowser, "quark": fOtherBrowser, "yabrowser": fOtherBrowser,
	"firefox": fFirefox, "fxios": fFirefox,
	"crios":  fChromeIOS,
	"chrome": fChrome, "chromium": fChrome,
	"safari":    fSafari,
	"version":   fVersion,
	"wv":        fWebView,
	"harmonyos": fHarmony, "openharmony": fHarmony,
	"ipad":   fIPad,
	"iphone": fIPhone, "ipod": fIPhone,
	"android":   fAndroid,
	"cros":      fChromeOS,
	"windows":   fWindows,
	"macintosh": fMac, "mac": fMac,
	"linux": fLinux, "x11": fLinux,
	"mobile": fMobile,
	"tablet": fTablet,
	"phone":  fPhone,
	"pc":     fPC,

	// HTTP libraries, command-line clients, headless browsers, monitors.
	"curl": fBot, "wget": fBot, "python-requests": fBot, "python-urllib": fBot,
	"python-httpx": fBot, "aiohttp": fBot, "go-http-client": fBot,
	"node-fetch": fBot, "undici": fBot, "axios": fBot, "analytics-node": fBot,
	"java": fBot, "apache-httpclient": fBot, "libwww-perl": fBot, "scrapy": fBot,
	"guzzlehttp": fBot, "postmanruntime": fBot, "httpie": fBot,
	"headlesschrome": fBot, "phantomjs": fBot, "lighthouse": fBot,
	"chrome-lighthouse": fBot, "pingdom": fBot, "ia_archiver": fBot,
	"facebookexternalhit": fBot,
}

// maxAgentWord is the length of the longest key of agentWords.
const maxAgentWord = len("facebookexternalhit")

// botParts mark crawlers wherever they appear: "Googlebot", "bingbot",
// "Baiduspider", "Sogou web spider", "AhrefsBot", "FeedFetcher-Google".
var botParts = [][]byte{[]byte("bot"), []byte("spider"), []byte("crawl"), []byte("slurp"), []byte("fetcher")}

// ReduceUserAgent parses a User-Agent header into an [Agent]. Automated
// clients (crawlers such as Googlebot and Baiduspider, and HTTP libraries
// such as curl, python-requests, Go-http-client, node-fetch and
// analytics-node) get Device "bot"; their Browser and OS are what the
// header claims, often "Other". An empty header gives "Other", "Other",
// "other".
//
// An iPad that asks for desktop pages sends the user agent of a Mac and is
// reported as macOS on a desktop: the header does not tell them apart.
func ReduceUserAgent(ua string) Agent {
	f := scanAgent(ua)
	a := Agent{Browser: agentBrowser(f), OS: agentOS(f), Device: "bot"}
	if f&fBot == 0 {
		a.Device = agentDevice(f, a.OS)
	}
	return a
}

// scanAgent returns the features of ua. It lowers the case of ua into a
// buffer on the stack, so it allocates only for a header longer than that.
func scanAgent(ua string) uint64 {
	var buf [1024]byte
	var lower []byte
	if len(ua) <= len(buf) {
		lower = buf[:len(ua)]
	} else {
		lower = make([]byte, len(ua))
	}
	for i := 0; i < len(ua); i++ {
		c := ua[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	var f uint64
	for i := 0; i < len(lower); {
		for i < len(lower) && !agentWordByte(lower[i]) {
			i++
		}
		j := i
		for j < len(lower) && agentWordByte(lower[j]) {
			j++
		}
		if l := j - i; l >= 2 && l <= maxAgentWord && !isDigit(lower[i]) { // no key is a version
			f |= agentWords[string(lower[i:j])]
		}
		i = j
	}
	if f&fBot == 0 {
		for _, p := range botParts {
			if bytes.Contains(lower, p) && (p[0] != 'b' || hasBot(lower)) {
				f |= fBot
				break
			}
		}
	}
	return f
}

func agentWordByte(c byte) bool {
	return class[c]&cAlnum != 0 || c == '-' || c == '_' || c == '.'
}

func agentOS(f uint64) string {
	switch {
	case f&fHarmony != 0:
		return "HarmonyOS"
	case f&fIPad != 0:
		return "iPadOS"
	case f&fIPhone != 0:
		return "iOS"
	case f&fAndroid != 0:
		return "Android"
	case f&fChromeOS != 0:
		return "ChromeOS"
	case f&fWindows != 0:
		return "Windows"
	case f&fMac != 0:
		return "macOS"
	case f&fLinux != 0:
		return "Linux"
	}
	return "Other"
}

// agentBrowser finds the browser family. The order matters: in-app
// browsers and Chromium derivatives also name Chrome and Safari, and Chrome
// also names Safari.
func agentBrowser(f uint64) string {
	switch {
	case f&fWeChat != 0:
		return "WeChat"
	case f&fQQ != 0:
		return "QQ Browser"
	case f&fUC != 0:
		return "UC Browser"
	case f&fBaidu != 0:
		return "Baidu"
	case f&fSamsung != 0:
		return "Samsung Internet"
	case f&fEdge != 0:
		return "Edge"
	case f&fOpera != 0:
		return "Opera"
	case f&fOtherBrowser != 0:
		return "Other"
	case f&fFirefox != 0:
		return "Firefox"
	case f&fChromeIOS != 0:
		return "Chrome"
	case f&fChrome != 0:
		if f&(fAndroid|fWebView) == fAndroid|fWebView {
			return "Other" // an app's WebView, not the browser
		}
		return "Chrome"
	case f&(fSafari|fVersion) == fSafari|fVersion && f&fAndroid == 0:
		return "Safari"
	}
	return "Other"
}

func agentDevice(f uint64, os string) string {
	switch os {
	case "iOS":
		return "mobile"
	case "iPadOS":
		return "tablet"
	case "Android":
		if f&fMobile != 0 {
			return "mobile"
		}
		return "tablet"
	case "HarmonyOS":
		switch {
		case f&fTablet != 0:
			return "tablet"
		case f&fPC != 0:
			return "desktop"
		}
		return "mobile"
	case "Windows":
		if f&fPhone != 0 {
			return "mobile" // Windows Phone
		}
		return "desktop"
	case "macOS", "Linux", "ChromeOS":
		return "desktop"
	}
	switch {
	case f&fTablet != 0:
		return "tablet"
	case f&fMobile != 0:
		return "mobile"
	}
	return "other"
}

// hasBot reports whether lower contains "bot" other than in "cubot", a
// brand of Android phones.
func hasBot(lower []byte) bool {
	for off := 0; ; {
		i := bytes.Index(lower[off:], []byte("bot"))
		if i < 0 {
			return false
		}
		i += off
		if i < 2 || string(lower[i-2:i]) != "cu" {
			return true
		}
		off = i + 3
	}
}
