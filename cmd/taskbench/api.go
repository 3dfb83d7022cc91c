package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// client talks to one taskd over loopback with keep-alive connections.
type client struct {
	base string
	http *http.Client
}

func newClient(base string) *client {
	t := &http.Transport{
		MaxIdleConns: 512, MaxIdleConnsPerHost: 512, MaxConnsPerHost: 0,
		IdleConnTimeout: 2 * time.Minute, DisableCompression: true,
	}
	return &client{base: base, http: &http.Client{Transport: t, Timeout: 60 * time.Second}}
}

// user is a signed-in user.
type user struct {
	ID, Email, Token string
}

func (c *client) do(ctx context.Context, method, path, token string, body []byte, hdr ...string) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return c.http.Do(req)
}

// call does a request that must answer want and decodes the answer into out.
func (c *client) call(ctx context.Context, method, path, token string, in, out any, want int) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	resp, err := c.do(ctx, method, path, token, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

const benchPassword = "correct horse battery staple"

func (c *client) signUpIn(ctx context.Context, email, name string) (user, error) {
	var up struct {
		UserID string `json:"User_id"`
	}
	if err := c.call(ctx, "POST", "/api/sign_up", "", map[string]string{"email": email, "password": benchPassword, "name": name}, &up, 201); err != nil {
		return user{}, err
	}
	var in struct {
		AccessToken string `json:"access_token"`
	}
	if err := c.call(ctx, "POST", "/api/sign_in", "", map[string]string{"email": email, "password": benchPassword}, &in, 200); err != nil {
		return user{}, err
	}
	return user{ID: up.UserID, Email: email, Token: in.AccessToken}, nil
}

type createTask struct {
	Name       string `json:"Task_name"`
	Contents   string `json:"Task_contents,omitempty"`
	Status     string `json:"Task_status,omitempty"`
	Priority   string `json:"Task_priority,omitempty"`
	Deadline   string `json:"Deadline,omitempty"`
	PIC        string `json:"PIC,omitempty"`
	Supervisor string `json:"Supervisor,omitempty"`
}

func (c *client) createTask(ctx context.Context, token string, t createTask) (string, outcome, error) {
	body, _ := json.Marshal(t)
	resp, err := c.do(ctx, "POST", "/api/tasks", token, body)
	if err != nil {
		return "", failed, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		if resp.StatusCode == http.StatusConflict || resp.StatusCode == http.StatusPreconditionFailed {
			return "", conflict, nil
		}
		return "", failed, fmt.Errorf("POST /api/tasks: %d %s", resp.StatusCode, truncate(b, 300))
	}
	var out struct {
		TaskID string `json:"Task_id"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.TaskID == "" {
		return "", failed, fmt.Errorf("POST /api/tasks: answer without Task_id: %s", truncate(b, 300))
	}
	return out.TaskID, ok, nil
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
