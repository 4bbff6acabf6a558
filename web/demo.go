package web

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/candorhq/candor"
	"github.com/candorhq/candor/collect"
	"github.com/candorhq/candor/demo"
	"github.com/candorhq/candor/subjects"
)

var demoPage = template.Must(template.ParseFS(files, "templates/demo.html"))

// picture returns the product's picture as a data: URL (the pages' CSP
// allows images from data: URLs, nothing else inline).
func picture(p demo.Product) template.URL {
	var shape string
	switch p.Shape {
	case "tin":
		shape = `<rect x="60" y="40" width="80" height="110" rx="8" fill="C"/><rect x="55" y="30" width="90" height="18" rx="4" fill="#1a202c"/><circle cx="100" cy="95" r="22" fill="#f7fafc"/><path d="M90 95q10-18 20 0q-10 18-20 0z" fill="C"/>`
	case "pot":
		shape = `<ellipse cx="100" cy="105" rx="55" ry="42" fill="C"/><rect x="85" y="55" width="30" height="12" rx="4" fill="C"/><path d="M152 95q30-5 25 30" stroke="C" stroke-width="10" fill="none"/><path d="M48 95l-30-15" stroke="C" stroke-width="10"/><ellipse cx="100" cy="70" rx="28" ry="6" fill="#1a202c" opacity=".3"/>`
	case "scarf":
		shape = `<path d="M50 40h100l-20 60 20 60H110l-10-40-10 40H50l20-60z" fill="C"/><path d="M70 60h60M65 80h70" stroke="#fefcbf" stroke-width="4"/>`
	default:
		shape = `<rect x="35" y="60" width="130" height="40" rx="10" fill="C"/><rect x="35" y="105" width="130" height="40" rx="10" fill="C"/><path d="M35 80h130M35 125h130" stroke="#744210" stroke-width="3"/><rect x="80" y="45" width="40" height="12" rx="6" fill="#744210"/>`
	}
	svg := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 180"><rect width="200" height="180" fill="#f7f4ee"/>%s</svg>`, shape)
	svg = strings.ReplaceAll(svg, `"C"`, `"`+p.Color+`"`)
	return template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte(svg)))
}

// demoText holds the demo page's words in each language.
var demoText = map[string]map[string]string{
	candor.LangEN: {
		"tagline":      "A demo shop that uses Candor's consent banner. Every product and customer here is made up.",
		"search":       "Search products",
		"searchButton": "Search",
		"view":         "View",
		"add":          "Add to cart",
		"cart":         "Cart",
		"item":         "item", // after a count of one
		"items":        "items",
		"signin":       "Sign in as demo customer",
		"user":         "Customer id",
		"email":        "E-mail",
		"signinButton": "Sign in",
		"signedIn":     "Signed in as",
		"log":          "What the SDK sent or dropped",
		"logIntro":     "Each call of candor.track, candor.page and candor.identify shows here: sent to Candor, or dropped in the browser because no purpose you allowed covers it.",
		"empty":        "Nothing yet.",
		"prefs":        "Privacy preferences",
		"portal":       "See what we hold about you",
		"lang":         "中文",
		"langTo":       candor.LangZH,
		"price":        "Price",
		"category":     "Category",
		"noMatch":      "No product matches your search.",
		"sent":         "sent",
		"dropped":      "dropped",
		"failed":       "failed",
		"consent":      "consent recorded",
		"noConsent":    "no purpose you allowed covers it",
	},
	candor.LangZH: {
		"tagline":      "一个使用 Candor 同意横幅的示范商城。这里的商品和顾客都是虚构的。",
		"search":       "搜索商品",
		"searchButton": "搜索",
		"view":         "查看",
		"add":          "加入购物车",
		"cart":         "购物车",
		"item":         "件商品",
		"items":        "件商品",
		"signin":       "以示范顾客身份登录",
		"user":         "顾客编号",
		"email":        "电子邮箱",
		"signinButton": "登录",
		"signedIn":     "已登录：",
		"log":          "SDK 发送或丢弃的内容",
		"logIntro":     "每次调用 candor.track、candor.page 和 candor.identify 都会显示在这里：已发送给 Candor，或因为您允许的目的都不涵盖它而在浏览器中丢弃。",
		"empty":        "暂无记录。",
		"prefs":        "隐私设置",
		"portal":       "查看我们持有的您的信息",
		"lang":         "English",
		"langTo":       candor.LangEN,
		"price":        "价格",
		"category":     "类别",
		"noMatch":      "没有符合搜索条件的商品。",
		"sent":         "已发送",
		"dropped":      "已丢弃",
		"failed":       "发送失败",
		"consent":      "已记录同意",
		"noConsent":    "您允许的目的都不涵盖它",
	},
}

// demoProduct is a product as the page shows it.
type demoProduct struct {
	ID, SKU, Category, Brand, Name, Price string
	Picture                               template.URL
}

// demo serves the demo shop: a product page that loads the banner SDK with
// the SDK key, so that a newcomer sees consent, events and their profile.
// Without the demo's SDK key (a server not started with -demo) there is no
// demo shop.
func (s *Server) demo(w http.ResponseWriter, r *http.Request) {
	if s.SDKKey == "" {
		http.NotFound(w, r)
		return
	}
	lang := candor.LangEN
	if r.URL.Query().Get("lang") == candor.LangZH {
		lang = candor.LangZH
	}
	products := make([]demoProduct, 0, len(demo.Products))
	for _, p := range demo.Products {
		products = append(products, demoProduct{ID: p.ID, SKU: p.SKU, Category: p.Category, Brand: p.Brand, Name: p.Name[lang],
			Price: fmt.Sprintf("%.2f", p.Price), Picture: picture(p)})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := demoPage.Execute(w, map[string]any{"Key": s.SDKKey, "Lang": lang, "Org": s.Policy.Organization.Name,
		"T": demoText[lang], "Products": products, "CSRF": s.csrfToken(w, r, cookiePerson)}); err != nil {
		s.log.Error("web: demo page", "err", err)
	}
}

// demoSignIn plays the shop's own server when a demo customer signs in: it
// records the customer's e-mail (as the shop's server would, with its write
// key) and gives the page an identity token for the user id, with which
// the SDK's browser key may name that user.
func (s *Server) demoSignIn(w http.ResponseWriter, r *http.Request) {
	if s.SDKKey == "" || len(s.IdentitySecret) == 0 {
		http.NotFound(w, r)
		return
	}
	if !s.form(w, r, "privacy", cookiePerson, 4<<10) {
		return
	}
	user := strings.TrimSpace(r.PostFormValue("user"))
	email := strings.TrimSpace(r.PostFormValue("email"))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if user == "" || len(user) > 100 {
		w.WriteHeader(http.StatusUnprocessableEntity)
		json.NewEncoder(w).Encode(map[string]string{"error": "a customer id is required"})
		return
	}
	// Like a shop's server at sign-in, it knows the browser's anonymous id
	// and names both, so that a new customer keeps the visitor's choices;
	// an existing customer's account takes the visitor in when the SDK
	// identifies (its refusals carry over, its grants do not).
	actor := candor.Actor{ID: "job:demo-shop", Role: candor.RoleAdmin}
	in := subjects.Input{UserID: user, AnonymousID: strings.TrimSpace(r.PostFormValue("anonymous_id")), Email: email, Source: "demo-shop"}
	_, _, err := s.Subjects.Upsert(r.Context(), actor, "demo", in)
	if candor.ErrorCode(err) == candor.ECONFLICT && in.AnonymousID != "" {
		in.AnonymousID = ""
		_, _, err = s.Subjects.Upsert(r.Context(), actor, "demo", in)
	}
	if err != nil {
		status := http.StatusUnprocessableEntity
		if candor.ErrorCode(err) == candor.ECONFLICT {
			status = http.StatusConflict
		} else if code := candor.ErrorCode(err); code != candor.EINVALID {
			s.log.Error("web: demo sign-in", "err", err)
			status = http.StatusInternalServerError
		}
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": candor.ErrorMessage(err)})
		return
	}
	json.NewEncoder(w).Encode(map[string]string{"user": user, "token": collect.IdentityToken(s.IdentitySecret, user, s.Now().Add(12*time.Hour))})
}
