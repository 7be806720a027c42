package api

import "time"

// Event names of the customers module.
const EventCustomerRegistered = "customers.customer_registered.v1"

// CustomerRegistered: an account was created (by registration, or the
// bootstrap admin at start-up).
type CustomerRegistered struct {
	CustomerID   string    `json:"customer_id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	RegisteredAt time.Time `json:"registered_at"`
}

func (CustomerRegistered) EventName() string  { return EventCustomerRegistered }
func (e CustomerRegistered) EventKey() string { return e.CustomerID }
