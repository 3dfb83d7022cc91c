package sqlstore_test

import (
	"testing"

	"github.com/taskd/taskd/adapters/contracttest"
	"github.com/taskd/taskd/adapters/eventtest"
	"github.com/taskd/taskd/adapters/sqlstore"
	"github.com/taskd/taskd/modules/notifications"
)

// The notification store's contract, on SQLite and on MySQL / MariaDB
// (skipped without a server unless TASKD_TEST_REQUIRE_SERVICES=1).
func TestNotificationStoreContract(t *testing.T) {
	eventtest.Dialects(t, func(t *testing.T, open func(t testing.TB) *sqlstore.DB) {
		db := open(t)
		contracttest.NotificationStore(t, func(testing.TB) notifications.Store { return sqlstore.NewNotificationStore(db) })
	})
}
