package demo

import "github.com/candorhq/candor"

// Product is one of the demo shop's synthetic products. Its fields are the
// properties that the example policy declares for "Product Viewed" and
// "Product Added".
type Product struct {
	ID, SKU, Category, Brand string
	Name                     map[string]string // by language
	Price                    float64           // in CNY
	// Shape and Color describe the product's picture, which the shop's
	// page draws.
	Shape, Color string
}

// Products are the demo shop's products: what its page shows and what its
// customers' month of shopping ([Shopping]) is about.
var Products = []Product{
	{ID: "p-tea-longjing", SKU: "TEA-LJ-250", Category: "tea", Brand: "West Lake Gardens", Price: 128,
		Name: map[string]string{candor.LangEN: "Longjing green tea, 250 g", candor.LangZH: "西湖龙井绿茶 250克"}, Shape: "tin", Color: "#2f855a"},
	{ID: "p-teapot-celadon", SKU: "POT-CEL-01", Category: "tea", Brand: "Longquan Kiln", Price: 268,
		Name: map[string]string{candor.LangEN: "Celadon teapot", candor.LangZH: "龙泉青瓷茶壶"}, Shape: "pot", Color: "#4a9c8c"},
	{ID: "p-scarf-silk", SKU: "SCF-SLK-RED", Category: "apparel", Brand: "Suzhou Silk", Price: 399,
		Name: map[string]string{candor.LangEN: "Silk scarf, red", candor.LangZH: "苏州真丝围巾（红）"}, Shape: "scarf", Color: "#c53030"},
	{ID: "p-steamer-bamboo", SKU: "KIT-BMB-26", Category: "kitchen", Brand: "Anji Bamboo", Price: 89,
		Name: map[string]string{candor.LangEN: "Bamboo steamer, 26 cm", candor.LangZH: "安吉竹制蒸笼 26厘米"}, Shape: "steamer", Color: "#b7791f"},
}
