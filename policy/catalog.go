package policy

import (
	"sort"
	"strings"

	"github.com/candorhq/candor"
)

// Field types.
const (
	typeString  = "string"
	typeEmail   = "email"
	typePhone   = "phone"
	typeDate    = "date"
	typeNumber  = "number"
	typeBoolean = "boolean"
)

var fieldTypes = []string{typeString, typeEmail, typePhone, typeDate, typeNumber, typeBoolean}

// propertyTypes are the types an event property may have.
var propertyTypes = []string{"string", "number", "integer", "boolean", "timestamp"}

var bases = []candor.Basis{
	candor.BasisConsent, candor.BasisContract, candor.BasisLegalObligation,
	candor.BasisLegitimateInterest, candor.BasisVitalInterest, candor.BasisPublicInterest,
}

var jurisdictions = []string{candor.JurisdictionPIPL, candor.JurisdictionGDPR}

// customPrefix starts a category the catalog does not know, for anything
// else a business holds.
const customPrefix = "custom."

// category is one kind of personal information the notice can explain.
type category struct {
	types     []string // the field types it allows; the first is the default
	sensitive bool     // sensitive personal information (PIPL Art. 28, GDPR Art. 9)
	text      candor.Text
}

// categories is the catalog of field categories, with the text the notice
// shows for each.
var categories = map[string]category{
	candor.CategoryEmail:     {[]string{typeEmail}, false, candor.Text{candor.LangEN: "E-mail address", candor.LangZH: "电子邮箱"}},
	candor.CategoryPhone:     {[]string{typePhone}, false, candor.Text{candor.LangEN: "Mobile phone number", candor.LangZH: "手机号码"}},
	"identity.name":          {[]string{typeString}, false, candor.Text{candor.LangEN: "Name", candor.LangZH: "姓名"}},
	candor.CategoryBirthDate: {[]string{typeDate}, false, candor.Text{candor.LangEN: "Date of birth", candor.LangZH: "出生日期"}},
	"identity.gender":        {[]string{typeString}, false, candor.Text{candor.LangEN: "Gender", candor.LangZH: "性别"}},
	"identity.age_band":      {[]string{typeString}, false, candor.Text{candor.LangEN: "Age range", candor.LangZH: "年龄段"}},
	"identity.government_id": {[]string{typeString}, true, candor.Text{candor.LangEN: "ID card or passport number", candor.LangZH: "身份证件号码"}},
	"location.country":       {[]string{typeString}, false, candor.Text{candor.LangEN: "Country or region", candor.LangZH: "国家或地区"}},
	"location.city":          {[]string{typeString}, false, candor.Text{candor.LangEN: "City", candor.LangZH: "所在城市"}},
	"location.address":       {[]string{typeString}, false, candor.Text{candor.LangEN: "Postal address", candor.LangZH: "通信地址"}},
	candor.CategoryTimeZone:  {[]string{typeString}, false, candor.Text{candor.LangEN: "Time zone", candor.LangZH: "时区"}},
	"location.precise":       {[]string{typeString}, true, candor.Text{candor.LangEN: "Precise location", candor.LangZH: "精确位置信息"}},
	"device.id":              {[]string{typeString}, false, candor.Text{candor.LangEN: "Device identifier", candor.LangZH: "设备标识符"}},
	"device.ip":              {[]string{typeString}, false, candor.Text{candor.LangEN: "IP address", candor.LangZH: "IP 地址"}},
	candor.CategoryLanguage:  {[]string{typeString}, false, candor.Text{candor.LangEN: "Preferred language", candor.LangZH: "语言偏好"}},
	"preference.interests":   {[]string{typeString}, false, candor.Text{candor.LangEN: "Interests", candor.LangZH: "兴趣偏好"}},
	"commerce.purchases":     {[]string{typeString, typeNumber}, false, candor.Text{candor.LangEN: "Purchase history", candor.LangZH: "购买记录"}},
	"commerce.membership":    {[]string{typeString, typeNumber, typeBoolean}, false, candor.Text{candor.LangEN: "Membership level and points", candor.LangZH: "会员等级和积分"}},
	"financial.account":      {[]string{typeString}, true, candor.Text{candor.LangEN: "Bank or payment account", candor.LangZH: "银行或支付账户"}},
	"health.data":            {[]string{typeString, typeNumber, typeBoolean}, true, candor.Text{candor.LangEN: "Health information", candor.LangZH: "健康信息"}},
	"biometric.data":         {[]string{typeString}, true, candor.Text{candor.LangEN: "Biometric data such as a face or fingerprint", candor.LangZH: "人脸、指纹等生物识别信息"}},
	"belief.religion":        {[]string{typeString}, true, candor.Text{candor.LangEN: "Religious beliefs", candor.LangZH: "宗教信仰"}},
}

// customCategory is how the catalog treats custom.NAME categories.
var customCategory = category{
	types: []string{typeString, typeNumber, typeBoolean, typeDate},
	text:  candor.Text{candor.LangEN: "Other information", candor.LangZH: "其他信息"},
}

// lookupCategory returns the catalog entry for name.
func lookupCategory(name string) (category, bool) {
	if c, ok := categories[name]; ok {
		return c, true
	}
	if rest, ok := strings.CutPrefix(name, customPrefix); ok && validWord(rest) {
		return customCategory, true
	}
	return category{}, false
}

// categoryNames lists the known categories, sorted.
func categoryNames() []string {
	names := make([]string, 0, len(categories))
	for n := range categories {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// defaultType is the field type a category implies when none is given.
func defaultType(categoryName string) string {
	switch categoryName {
	case candor.CategoryEmail:
		return typeEmail
	case candor.CategoryPhone:
		return typePhone
	case candor.CategoryBirthDate:
		return typeDate
	}
	return typeString
}

// validWord reports whether s is a lower-case word: letters, digits and
// underscores, starting with a letter.
func validWord(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// countries holds the ISO 3166-1 alpha-2 codes in use.
var countries = func() map[string]bool {
	const codes = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ " +
		"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
		"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ " +
		"DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
		"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY " +
		"HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
		"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY " +
		"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
		"NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY " +
		"QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ " +
		"TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ " +
		"VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"
	m := map[string]bool{}
	for _, c := range strings.Fields(codes) {
		m[c] = true
	}
	return m
}()
