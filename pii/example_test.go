package pii_test

import (
	"fmt"

	"github.com/candorhq/candor/pii"
)

func ExampleRedact() {
	out, kinds := pii.Redact("我的邮箱是abc@qq.com谢谢, call +86 138 0013 8000")
	fmt.Println(out)
	fmt.Println(kinds)
	// Output:
	// 我的邮箱是[email]谢谢, call [phone]
	// [email phone]
}

func ExampleFind() {
	s := "order SO20261125123456 from 203.0.113.7"
	for _, h := range pii.Find(s) {
		fmt.Println(h.Kind, s[h.Start:h.End])
	}
	// Output:
	// ip 203.0.113.7
}

func ExampleTruncateIP() {
	fmt.Println(pii.TruncateIP("203.0.113.77"))
	fmt.Println(pii.TruncateIP("2001:db8:1234:5678::1"))
	// Output:
	// 203.0.113.0 true
	// 2001:db8:1234:: true
}

func ExampleReduceUserAgent() {
	a := pii.ReduceUserAgent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN")
	fmt.Printf("%+v\n", a)
	// Output:
	// {Browser:WeChat OS:iOS Device:mobile}
}
