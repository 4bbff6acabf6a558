package gate_test

import (
	"context"
	"fmt"
	"os"

	"github.com/candorhq/candor/consent"
	"github.com/candorhq/candor/gate"
	"github.com/candorhq/candor/internal/testenv"
	"github.com/candorhq/candor/subjects"
)

// Example shows a read through the gate: a support agent reads a customer's
// contact fields to answer a ticket. The gate checks that the support role
// may use the service purpose, that the purpose's basis holds, masks what
// the role sees only partly, and writes the audit entry before it returns.
func Example() {
	dir, _ := os.MkdirTemp("", "candor-example-")
	defer os.RemoveAll(dir)
	e, err := testenv.Build(dir, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	ctx := context.Background()
	id, err := e.NewSubject(subjects.Input{UserID: "u-1", Email: "li.na@example.cn", Phone: "138 1234 5678"}, consent.ScopeNone)
	if err != nil {
		fmt.Println(err)
		return
	}

	res, err := e.Gate.Read(ctx, gate.ReadRequest{Actor: supportAgent, Purpose: "service", SubjectID: id, Fields: []string{"email", "phone"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Fields["email"], res.Fields["phone"], res.Decision.Code)

	// Marketing e-mail rests on consent, and this customer rejected all.
	d, _ := e.Gate.Decide(ctx, id, "marketing.email")
	fmt.Println(d.Allow, d.Code)
	// Output:
	// l***@example.cn 138****5678 basis
	// false denied
}
