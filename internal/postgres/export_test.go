package postgres

import "time"

// HoldImportSlots takes every import slot, as imports still arriving do, waits at most wait for
// one, and returns what gives the slots back.
func (db *DB) HoldImportSlots(wait time.Duration) (release func()) {
	db.importSlotWait = wait
	for range cap(db.importSlots) {
		db.importSlots <- struct{}{}
	}
	return func() {
		for range cap(db.importSlots) {
			<-db.importSlots
		}
	}
}
