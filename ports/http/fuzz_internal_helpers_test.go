package httpport

import "github.com/taskd/taskd/modules/kernel/actor"

var actorForFuzz = actor.Actor{UserID: "0190f5e4-0000-7000-8000-000000000001", Role: "member"}
