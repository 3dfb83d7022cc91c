package smtp_test

import (
	"github.com/google/uuid"

	n "github.com/taskd/taskd/modules/notifications/domain/notification"
)

func emailTo(to string) n.Email {
	return n.Email{ID: uuid.NewString(), To: to, Subject: "s", Text: "t"}
}
