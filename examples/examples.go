// Package examples holds the example policy of the demo shop, Demo Shop
// (示范商城): an online shop in China that also sells to the European Union.
// The binary embeds it so that `candor serve -demo` runs without a policy
// file, and tests use it as a realistic policy.
package examples

import _ "embed"

// Policy is examples/candor.yaml, the demo shop's policy file.
//
//go:embed candor.yaml
var Policy []byte
