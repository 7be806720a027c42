package domain

import (
	"slices"
	"testing"

	"github.com/modshop/modshop/modules/orders/api"
)

// api.Transitions (what the back office offers) is the state machine's
// commands, status by status: a button the machine refuses, or a command
// without its button, fails here.
func TestTransitionsOfTheAPIAreTheMachines(t *testing.T) {
	for _, s := range Statuses {
		var allowed []string
		for _, c := range Commands {
			if _, err := Next(s, c); err == nil {
				allowed = append(allowed, string(c))
			}
		}
		if got := api.Transitions[s]; !slices.Equal(got, allowed) {
			t.Errorf("%s: api.Transitions has %v, the machine allows %v", s, got, allowed)
		}
	}
}
