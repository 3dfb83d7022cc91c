// Package aws compares the CloudFormation template that the CDK app in
// deploy/aws synthesises (its tests write it to deploy/aws/cdk.out/check)
// with the Go package deploy/names, which the binary uses: the TypeScript
// side reads names.json itself, so this catches a name built differently on
// either side.
package aws

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/taskd/taskd/deploy/checks/internal/repo"
	"github.com/taskd/taskd/deploy/names"
)

type resource struct {
	Type       string          `json:"Type"`
	Properties json.RawMessage `json:"Properties"`
}

type template struct {
	Resources map[string]resource `json:"Resources"`
}

func loadTemplate(t *testing.T) template {
	t.Helper()
	n := names.Default()
	b, err := os.ReadFile(repo.Path(t, "deploy", "aws", "cdk.out", "check", n.Env()+"-app.template.json"))
	if errors.Is(err, fs.ErrNotExist) && os.Getenv("TASKD_REQUIRE_CDK_TEMPLATE") != "1" {
		t.Skip("no synthesised template: run `npm test` in deploy/aws first (deploy/check.sh does)")
	}
	if err != nil {
		t.Fatal(err)
	}
	var tpl template
	if err := json.Unmarshal(b, &tpl); err != nil {
		t.Fatal(err)
	}
	return tpl
}

func TestTemplateUsesTheBinarysNames(t *testing.T) {
	for _, p := range namesProblems(loadTemplate(t), names.Default()) {
		t.Error(p)
	}
}

func namesProblems(tpl template, n names.Names) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	byName := map[string]string{} // QueueName/TopicName/TableName → logical id
	props := map[string]map[string]any{}
	for id, r := range tpl.Resources {
		var p map[string]any
		_ = json.Unmarshal(r.Properties, &p)
		props[id] = p
		for _, k := range []string{"QueueName", "TopicName", "TableName"} {
			if s, ok := p[k].(string); ok {
				byName[r.Type+"/"+s] = id
			}
		}
	}

	topic, ok := byName["AWS::SNS::Topic/"+n.EventsTopic()]
	if !ok {
		bad("no SNS topic %s", n.EventsTopic())
	}
	var queues []string
	for _, g := range n.ConsumerGroups() {
		q, okQ := byName["AWS::SQS::Queue/"+n.Queue(g)]
		d, okD := byName["AWS::SQS::Queue/"+n.DLQ(g)]
		if !okQ || !okD {
			bad("consumer group %s: queue %s or DLQ %s missing", g, n.Queue(g), n.DLQ(g))
			continue
		}
		queues = append(queues, n.Queue(g), n.DLQ(g))
		rp, _ := json.Marshal(props[q]["RedrivePolicy"])
		want := fmt.Sprintf(`{"deadLetterTargetArn":{"Fn::GetAtt":["%s","Arn"]},"maxReceiveCount":%d}`, d, n.MaxReceiveCount())
		if string(rp) != want {
			bad("%s: RedrivePolicy %s, want %s", n.Queue(g), rp, want)
		}
		subscribed := false
		for id, r := range tpl.Resources {
			if r.Type != "AWS::SNS::Subscription" {
				continue
			}
			p := props[id]
			ep, _ := json.Marshal(p["Endpoint"])
			tp, _ := json.Marshal(p["TopicArn"])
			if string(ep) == fmt.Sprintf(`{"Fn::GetAtt":["%s","Arn"]}`, q) && string(tp) == fmt.Sprintf(`{"Ref":"%s"}`, topic) {
				subscribed = true
				if p["RawMessageDelivery"] != true {
					bad("%s: subscription without RawMessageDelivery (watermill-aws subscribes with it)", n.Queue(g))
				}
			}
		}
		if !subscribed {
			bad("%s is not subscribed to %s", n.Queue(g), n.EventsTopic())
		}
	}
	for id, r := range tpl.Resources {
		if r.Type == "AWS::SQS::Queue" {
			if name, _ := props[id]["QueueName"].(string); !slices.Contains(queues, name) {
				bad("queue %q (%s) is not a queue of deploy/names", name, id)
			}
		}
	}
	for _, spec := range names.Spec().Tables {
		name := n.TableName(spec.Key)
		id, ok := byName["AWS::DynamoDB::Table/"+name]
		if !ok {
			bad("no DynamoDB table %s", name)
			continue
		}
		ks, _ := json.Marshal(props[id]["KeySchema"])
		want := fmt.Sprintf(`[{"AttributeName":"%s","KeyType":"HASH"}`, spec.PartitionKey)
		if spec.SortKey != "" {
			want += fmt.Sprintf(`,{"AttributeName":"%s","KeyType":"RANGE"}`, spec.SortKey)
		}
		want += "]"
		if string(ks) != want {
			bad("table %s: KeySchema %s, want %s", name, ks, want)
		}
	}
	// The containers run with the same TASKD_ENV.
	for id, r := range tpl.Resources {
		if r.Type != "AWS::ECS::TaskDefinition" {
			continue
		}
		family, _ := props[id]["Family"].(string)
		if !strings.HasPrefix(family, n.Env()+"-") || strings.HasSuffix(family, "-metrics-agent") {
			continue
		}
		b, _ := json.Marshal(props[id]["ContainerDefinitions"])
		if !strings.Contains(string(b), fmt.Sprintf(`{"Name":"TASKD_ENV","Value":"%s"}`, n.Env())) {
			bad("task definition %s does not set TASKD_ENV=%s", family, n.Env())
		}
	}
	return problems
}

// A template built with other names fails.
func TestNamesCheckCatchesDrift(t *testing.T) {
	tpl := loadTemplate(t)
	b, _ := json.Marshal(tpl)
	drifted := strings.ReplaceAll(string(b), `"taskd-analytics-dlq"`, `"taskd-analytics-deadletter"`)
	var d template
	if err := json.Unmarshal([]byte(drifted), &d); err != nil {
		t.Fatal(err)
	}
	if len(namesProblems(d, names.Default())) == 0 {
		t.Fatal("a renamed DLQ was not reported")
	}
}
