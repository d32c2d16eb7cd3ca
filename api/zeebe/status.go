package zeebe

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"eddy/engine"
	"eddy/record"
	"eddy/storage"
)

// rejectionCodes maps the engine's rejection types to gRPC codes as Zeebe's
// gateway does; a refusal by the entity's state (INVALID_STATE) is
// FAILED_PRECONDITION.
var rejectionCodes = map[record.RejectionType]codes.Code{
	record.InvalidArgument:         codes.InvalidArgument,
	record.NotFound:                codes.NotFound,
	record.AlreadyExists:           codes.AlreadyExists,
	record.InvalidState:            codes.FailedPrecondition,
	record.ProcessingError:         codes.Internal,
	record.ExceededBatchRecordSize: codes.InvalidArgument,
}

// statusOf turns an engine error about a command with the given intent
// (CREATE, COMPLETE, ...) into the status a Zeebe gateway answers with.
func statusOf(err error, intent string) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var rej *engine.Rejection
	if errors.As(err, &rej) {
		code, ok := rejectionCodes[rej.Type]
		if !ok {
			code = codes.Unknown
		}
		return status.Error(code, fmt.Sprintf("Command '%s' rejected with code '%s': %s", intent, rej.Type, rej.Reason))
	}
	switch {
	case errors.Is(err, engine.ErrTimeout):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, storage.ErrOutcomeUnknown):
		// Sent, and no answer: not UNAVAILABLE, which clients send again.
		return status.Error(codes.Unknown, err.Error()+"; it may have taken effect: check before sending it again")
	case errors.Is(err, engine.ErrNoPartition):
		return status.Error(codes.Unavailable, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "the request was cancelled before the engine answered")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "the request's deadline passed before the engine answered")
	}
	return status.Error(codes.Internal, err.Error())
}

// invalid is INVALID_ARGUMENT about a request field, worded as Zeebe's
// gateway words its checks.
func invalid(format string, args ...any) error {
	return status.Error(codes.InvalidArgument, fmt.Sprintf(format, args...))
}
