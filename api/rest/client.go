package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Client calls the API of a running Eddy. Failures the server reports are
// returned as *Problem.
type Client struct {
	base string
	http *http.Client
}

// NewClient returns a client of the Eddy at address (such as
// http://127.0.0.1:8080); hc nil means http.DefaultClient.
func NewClient(address string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(address, "/"), http: hc}
}

// File is a file to deploy.
type File struct {
	Name    string
	Content []byte
}

// Deploy uploads files as multipart/form-data.
func (c *Client) Deploy(ctx context.Context, files ...File) (DeployResponse, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range files {
		part, err := mw.CreateFormFile("resources", f.Name)
		if err != nil {
			return DeployResponse{}, err
		}
		part.Write(f.Content)
	}
	if err := mw.Close(); err != nil {
		return DeployResponse{}, err
	}
	var out DeployResponse
	err := c.send(ctx, http.MethodPost, "/v1/deployments", mw.FormDataContentType(), &body, &out)
	return out, err
}

// CreateInstance creates a process instance (and awaits its end if asked).
func (c *Client) CreateInstance(ctx context.Context, req CreateInstanceRequest) (InstanceResult, error) {
	var out InstanceResult
	err := c.do(ctx, http.MethodPost, "/v1/process-instances", req, &out)
	return out, err
}

// Instance returns a running process instance.
func (c *Client) Instance(ctx context.Context, key Key) (Instance, error) {
	var out Instance
	err := c.do(ctx, http.MethodGet, "/v1/process-instances/"+key.String(), nil, &out)
	return out, err
}

// CancelInstance cancels a process instance.
func (c *Client) CancelInstance(ctx context.Context, key Key) error {
	return c.do(ctx, http.MethodPost, "/v1/process-instances/"+key.String()+"/cancellation", nil, nil)
}

// SetVariables sets variables on a scope.
func (c *Client) SetVariables(ctx context.Context, scope Key, req SetVariablesRequest) error {
	return c.do(ctx, http.MethodPut, "/v1/element-instances/"+scope.String()+"/variables", req, nil)
}

// PublishMessage publishes a message (and awaits the end of the instance it
// reaches if asked).
func (c *Client) PublishMessage(ctx context.Context, req PublishMessageRequest) (PublishMessageResponse, error) {
	var out PublishMessageResponse
	err := c.do(ctx, http.MethodPost, "/v1/messages", req, &out)
	return out, err
}

// BroadcastSignal broadcasts a signal.
func (c *Client) BroadcastSignal(ctx context.Context, req BroadcastSignalRequest) (BroadcastSignalResponse, error) {
	var out BroadcastSignalResponse
	err := c.do(ctx, http.MethodPost, "/v1/signals", req, &out)
	return out, err
}

// ActivateJobs activates jobs.
func (c *Client) ActivateJobs(ctx context.Context, req ActivateJobsRequest) ([]Job, error) {
	var out ActivateJobsResponse
	err := c.do(ctx, http.MethodPost, "/v1/jobs/activation", req, &out)
	return out.Jobs, err
}

// CompleteJob completes a job.
func (c *Client) CompleteJob(ctx context.Context, key Key, req CompleteJobRequest) error {
	return c.do(ctx, http.MethodPost, "/v1/jobs/"+key.String()+"/completion", req, nil)
}

// FailJob fails a job.
func (c *Client) FailJob(ctx context.Context, key Key, req FailJobRequest) error {
	return c.do(ctx, http.MethodPost, "/v1/jobs/"+key.String()+"/failure", req, nil)
}

// ThrowError throws a BPMN error from a job.
func (c *Client) ThrowError(ctx context.Context, key Key, req ThrowErrorRequest) error {
	return c.do(ctx, http.MethodPost, "/v1/jobs/"+key.String()+"/error", req, nil)
}

// UpdateJob updates a job's retries and/or timeout.
func (c *Client) UpdateJob(ctx context.Context, key Key, req UpdateJobRequest) error {
	return c.do(ctx, http.MethodPatch, "/v1/jobs/"+key.String(), req, nil)
}

// Incidents lists a page of open incidents; instance and after may be 0,
// limit 0 means the server's default.
func (c *Client) Incidents(ctx context.Context, instance, after Key, limit int) (IncidentList, error) {
	q := url.Values{}
	if instance != 0 {
		q.Set("processInstanceKey", instance.String())
	}
	if after != 0 {
		q.Set("after", after.String())
	}
	if limit != 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	path := "/v1/incidents"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out IncidentList
	err := c.do(ctx, http.MethodGet, path, nil, &out)
	return out, err
}

// ResolveIncident resolves an incident.
func (c *Client) ResolveIncident(ctx context.Context, key Key) error {
	return c.do(ctx, http.MethodPost, "/v1/incidents/"+key.String()+"/resolution", nil, nil)
}

// do sends in as JSON (none if nil) and decodes the answer into out.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	contentType := ""
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body, contentType = bytes.NewReader(data), "application/json"
	}
	return c.send(ctx, method, path, contentType, body, out)
}

func (c *Client) send(ctx context.Context, method, path, contentType string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("bad Eddy address %q: %w", c.base, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	resp, err := c.http.Do(req)
	if err != nil {
		// The URL error repeats the method and URL: keep the cause.
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		if ctx.Err() != nil {
			// Cut short by the caller (an interrupt, a deadline): Eddy
			// may be there and working on it.
			return fmt.Errorf("no answer from Eddy at %s: %w", c.base, err)
		}
		return fmt.Errorf("cannot reach Eddy at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading the answer of %s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		return answerProblem(resp, data)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("the answer of %s %s is not what Eddy sends: %w", method, path, err)
	}
	return nil
}

// answerProblem reads an error answer: a problem, or whatever else a proxy
// in between may have sent.
func answerProblem(resp *http.Response, data []byte) error {
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	p := &Problem{}
	if mediaType == "application/problem+json" && json.Unmarshal(data, p) == nil && p.Status != 0 {
		return p
	}
	detail := strings.TrimSpace(string(data))
	if len(detail) > 200 {
		detail = detail[:200] + "…"
	}
	return &Problem{Type: "about:blank", Title: http.StatusText(resp.StatusCode), Status: resp.StatusCode, Detail: detail}
}
