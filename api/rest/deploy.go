package rest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"eddy/record"
)

// deploy takes the files either as a multipart/form-data upload (every file
// part is a resource, named by its filename) or as JSON (DeployRequest).
func (s *Server) deploy(w http.ResponseWriter, r *http.Request) error {
	var resources []record.Resource
	var err error
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mediaType == "multipart/form-data":
		resources, err = readMultipart(w, r)
	case strings.HasSuffix(mediaType, "/xml"):
		return newProblem(http.StatusUnsupportedMediaType, TypeUnsupportedType,
			fmt.Sprintf("a deployment is multipart/form-data (the files) or application/json (their names and contents), not %q", mediaType))
	default:
		resources, err = readDeployJSON(w, r)
	}
	if err != nil {
		return err
	}
	dep, err := s.engine.Deploy(r.Context(), resources...)
	if err != nil {
		return err
	}
	out := DeployResponse{DeploymentKey: Key(dep.Key), Processes: make([]DeployedProcess, len(dep.Value.Processes))}
	for i, p := range dep.Value.Processes {
		out.Processes[i] = DeployedProcess{BpmnProcessID: p.BpmnProcessID, Version: p.Version,
			ProcessDefinitionKey: Key(p.ProcessDefinitionKey), ResourceName: p.ResourceName, Duplicate: p.Duplicate}
	}
	return writeJSON(w, http.StatusOK, out)
}

func readMultipart(w http.ResponseWriter, r *http.Request) ([]record.Resource, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, newProblem(http.StatusBadRequest, TypeMalformed, "malformed multipart body: "+err.Error())
	}
	var out []record.Resource
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, multipartError(err, len(out))
		}
		name := part.FileName()
		if name == "" {
			return nil, invalid(part.FormName(), "multipart part %q has no filename: every part of a deployment is a file to deploy", part.FormName())
		}
		content, err := io.ReadAll(part)
		if err != nil {
			return nil, multipartError(err, len(out))
		}
		out = append(out, record.Resource{Name: name, Content: content})
	}
	if len(out) == 0 {
		return nil, invalid("resources", "the multipart body holds no file to deploy")
	}
	return out, nil
}

func multipartError(err error, part int) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return err
	}
	return newProblem(http.StatusBadRequest, TypeMalformed, fmt.Sprintf("malformed multipart body at part %d: %v", part+1, err))
}

func readDeployJSON(w http.ResponseWriter, r *http.Request) ([]record.Resource, error) {
	req, err := body[DeployRequest](w, r)
	if err != nil {
		return nil, err
	}
	return req.records()
}

// records checks the JSON form and decodes its contents.
func (req *DeployRequest) records() ([]record.Resource, error) {
	if len(req.Resources) == 0 {
		return nil, invalid("resources", `field "resources" must hold at least one file to deploy`)
	}
	out := make([]record.Resource, len(req.Resources))
	for i, res := range req.Resources {
		field := fmt.Sprintf("resources[%d]", i)
		if res.Name == "" {
			return nil, invalid(field+".name", "field %q must name the file (for example order.bpmn)", field+".name")
		}
		switch {
		case res.Content != "" && res.ContentBase64 != "":
			return nil, invalid(field, "%s (%s) has both content and contentBase64; give one", field, res.Name)
		case res.ContentBase64 != "":
			data, err := base64.StdEncoding.DecodeString(res.ContentBase64)
			if err != nil {
				return nil, invalid(field+".contentBase64", "field %q (%s) is not valid base64: %v", field+".contentBase64", res.Name, err)
			}
			out[i] = record.Resource{Name: res.Name, Content: data}
		case res.Content != "":
			out[i] = record.Resource{Name: res.Name, Content: []byte(res.Content)}
		default:
			return nil, invalid(field+".content", "%s (%s) has no content: give content (the text) or contentBase64", field, res.Name)
		}
	}
	return out, nil
}

func (s *Server) deleteResource(w http.ResponseWriter, r *http.Request) error {
	key, err := pathKey(r, "resourceKey")
	if err != nil {
		return err
	}
	return noContent(w, s.engine.DeleteResource(r.Context(), key))
}
