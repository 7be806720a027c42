package store

import (
	"errors"
	"time"

	"gorm.io/gorm"
)

// Address is a row of customers_addresses.
type Address struct {
	ID         string    `gorm:"column:id;primaryKey"`
	CustomerID string    `gorm:"column:customer_id"`
	Name       string    `gorm:"column:name"`
	Line1      string    `gorm:"column:line1"`
	Line2      string    `gorm:"column:line2"`
	City       string    `gorm:"column:city"`
	PostalCode string    `gorm:"column:postal_code"`
	Country    string    `gorm:"column:country"`
	Phone      string    `gorm:"column:phone"`
	CreatedAt  time.Time `gorm:"column:created_at"`
	UpdatedAt  time.Time `gorm:"column:updated_at"`
}

func (Address) TableName() string { return "customers_addresses" }

// Addresses lists a customer's addresses with ids after the cursor id, in
// id order (ids are time-ordered UUIDv7s, so this is creation order and a
// stable keyset under concurrent inserts).
func (q queries) Addresses(customerID, after string, limit int) ([]Address, error) {
	var rows []Address
	sel := q.db.Where("customer_id = ?", customerID)
	if after != "" {
		sel = sel.Where("id > ?", after)
	}
	err := sel.Order("id").Limit(limit).Find(&rows).Error
	return rows, translate("list addresses", err)
}

// AddressOf reads one address of a customer; ErrNotFound when it does not
// exist or is someone else's.
func (q queries) AddressOf(customerID, id string) (Address, error) {
	var a Address
	err := q.db.Where("id = ? AND customer_id = ?", id, customerID).Take(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return a, ErrNotFound
	}
	return a, translate("read address", err)
}

// TakeAddressSlot counts one more address against the customer's limit, in
// one conditional UPDATE: concurrent inserts cannot overshoot it, on SQLite
// or PostgreSQL. It reports false when the book is full (or the account
// gone).
func (q queries) TakeAddressSlot(customerID string, limit int) (bool, error) {
	res := q.db.Exec("UPDATE customers_accounts SET address_count = address_count + 1 WHERE id = ? AND address_count < ?", customerID, limit)
	return res.RowsAffected == 1, translate("count address", res.Error)
}

// InsertAddress adds an address; take a slot first in the same transaction.
func (q queries) InsertAddress(a Address) error {
	return translate("insert address", q.db.Create(&a).Error)
}

// UpdateAddress stores an address's fields; ErrNotFound when it is not the
// customer's.
func (q queries) UpdateAddress(a Address) error {
	res := q.db.Model(&Address{}).Where("id = ? AND customer_id = ?", a.ID, a.CustomerID).Updates(map[string]any{
		"name": a.Name, "line1": a.Line1, "line2": a.Line2, "city": a.City, "postal_code": a.PostalCode,
		"country": a.Country, "phone": a.Phone, "updated_at": a.UpdatedAt,
	})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return translate("update address", res.Error)
}

// DeleteAddress removes a customer's address and gives its slot back;
// ErrNotFound when it is not the customer's.
func (q queries) DeleteAddress(customerID, id string) error {
	res := q.db.Exec("DELETE FROM customers_addresses WHERE id = ? AND customer_id = ?", id, customerID)
	if res.Error != nil {
		return translate("delete address", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	err := q.db.Exec("UPDATE customers_accounts SET address_count = address_count - 1 WHERE id = ? AND address_count > 0", customerID).Error
	return translate("count address", err)
}
