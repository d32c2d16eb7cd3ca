package rest

import (
	"net/http"
	"time"

	"eddy/engine"
	"eddy/record"
)

func (s *Server) publishMessage(w http.ResponseWriter, r *http.Request) error {
	req, err := body[PublishMessageRequest](w, r)
	if err != nil {
		return err
	}
	pr := engine.PublishRequest{Name: req.Name, CorrelationKey: req.CorrelationKey, TTL: req.TimeToLive.duration(),
		MessageID: req.MessageID, Variables: req.Variables}
	if !req.AwaitCompletion {
		msg, err := s.engine.Publish(r.Context(), pr)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, PublishMessageResponse{MessageKey: Key(msg.Key)})
	}
	begin, timeout := time.Now(), awaitTimeout(req.Await)
	msg, out, err := s.engine.PublishWithResult(r.Context(), pr, timeout)
	if cutBySwitch(msg, err) && leaveWait(r.Context(), laterWait{message: msg, created: record.Record{Key: out.ProcessInstanceKey},
		begin: begin, timeout: timeout, fetch: req.FetchVariables}) {
		return nil
	}
	if err != nil {
		p := problemFor(err)
		p.MessageKey = Key(msg.Key)
		p.ProcessInstanceKey = Key(out.ProcessInstanceKey)
		return p
	}
	return writeJSON(w, http.StatusOK, PublishMessageResponse{MessageKey: Key(msg.Key), InstanceResult: finishedInstance(out.Only(req.FetchVariables))})
}

func (req *PublishMessageRequest) check() error {
	if req.Name == "" {
		return invalid("name", `field "name" must be the message name`)
	}
	if err := checkObject("variables", req.Variables); err != nil {
		return err
	}
	return checkAwait(req.Await)
}

func (s *Server) broadcastSignal(w http.ResponseWriter, r *http.Request) error {
	req, err := body[BroadcastSignalRequest](w, r)
	if err != nil {
		return err
	}
	sig, err := s.engine.BroadcastSignal(r.Context(), req.SignalName, req.Variables)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, BroadcastSignalResponse{SignalKey: Key(sig.Key)})
}

func (req *BroadcastSignalRequest) check() error {
	if req.SignalName == "" {
		return invalid("signalName", `field "signalName" must be the signal name`)
	}
	return checkObject("variables", req.Variables)
}
