package notification

import "time"

// Notification is one entry of a user's inbox.
type Notification struct {
	ID          string
	RecipientID string
	// SourceID is the event id, or the reminder key: (SourceID,
	// RecipientID) is unique, so a redelivered event adds nothing.
	SourceID  string
	Kind      Kind
	TaskID    string
	TaskName  string
	ActorID   string
	ActorName string
	Title     string
	Body      string
	Link      string
	CreatedAt time.Time
	ReadAt    *time.Time
}

// Delivery is one message to one recipient through one channel (e-mail,
// SMS): the record written before sending, under the unique key
// (SourceID, Channel, RecipientID).
type Delivery struct {
	ID          string
	SourceID    string
	EventName   string // the task event's name, or the reminder's kind
	Channel     Channel
	RecipientID string
	Kind        Kind
	TaskID      string
	Subject     string
	Body        string
	Status      Status
	// Attempts counts the sends started (a claim counts one).
	Attempts      int
	NextAttemptAt time.Time
	// Address is where the last attempt went (e-mail address or phone).
	Address    string
	ProviderID string
	LastError  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	SentAt     *time.Time
}
