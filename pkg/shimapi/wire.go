package shimapi

import (
	"encoding/json"
	"time"

	"github.com/minibox/minibox/pkg/wirejson"
)

// The messages' JSON, written and read as encoding/json would from their tags, by code of
// their own (wirejson): a shim or init is a fresh process each time, and encoding/json's
// first use of each type builds its caches.

// Marshal is v's JSON: Request, Response, InitMsg and Exit by their own code,
// anything else by encoding/json.
func Marshal(v any) ([]byte, error) {
	e := &wirejson.Encoder{B: make([]byte, 0, 128)}
	var err error
	switch t := v.(type) {
	case *Request:
		t.encode(e)
	case *Response:
		err = t.encode(e)
	case *InitMsg:
		err = t.encode(e)
	case *Exit:
		err = t.encode(e)
	default:
		return json.Marshal(v)
	}
	if err != nil {
		return nil, err
	}
	return e.B, nil
}

// Unmarshal reads data into v as json.Unmarshal would: Request, Response,
// InitMsg and Exit by their own code, anything else by encoding/json.
func Unmarshal(data []byte, v any) error {
	d := wirejson.NewDecoder(data)
	var err error
	switch t := v.(type) {
	case *Request:
		err = wirejson.Struct(d, t, (*Request).field)
	case *Response:
		err = wirejson.Struct(d, t, (*Response).field)
	case *InitMsg:
		err = wirejson.Struct(d, t, (*InitMsg).field)
	case *Exit:
		err = wirejson.Struct(d, t, (*Exit).field)
	default:
		return json.Unmarshal(data, v)
	}
	if err == nil {
		err = d.End()
	}
	return err
}

func readTime(d *wirejson.Decoder, t *time.Time) error {
	raw, err := d.Raw()
	if err != nil {
		return err
	}
	return t.UnmarshalJSON(raw)
}

func writeTime(e *wirejson.Encoder, name string, t time.Time) error {
	b, err := t.MarshalJSON()
	if err != nil {
		return err
	}
	e.Raw(name, b)
	return nil
}

func (r *Request) encode(e *wirejson.Encoder) {
	e.Open()
	e.String("op", r.Op, false)
	e.Int("signal", int64(r.Signal), true)
	e.Uint("height", uint64(r.Height), true)
	e.Uint("width", uint64(r.Width), true)
	e.Bool("stdin", r.Stdin, true)
	e.Bool("handoff", r.Handoff, true)
	if r.Exec != nil {
		e.Key("exec")
		r.Exec.encode(e)
	}
	e.String("exec_id", r.ExecID, true)
	e.Close()
}

func (r *Request) field(d *wirejson.Decoder, key string) error {
	switch key {
	case "op":
		return d.String(&r.Op)
	case "signal":
		return d.IntValue(&r.Signal)
	case "height":
		return d.Uint16(&r.Height)
	case "width":
		return d.Uint16(&r.Width)
	case "stdin":
		return d.Bool(&r.Stdin)
	case "handoff":
		return d.Bool(&r.Handoff)
	case "exec":
		return wirejson.StructPtr(d, &r.Exec, (*Exec).field)
	case "exec_id":
		return d.String(&r.ExecID)
	}
	return d.Unknown(key, r.field)
}

func (r *Response) encode(e *wirejson.Encoder) error {
	e.Open()
	e.String("error", r.Error, true)
	e.Int("code", int64(r.Code), true)
	e.Int("pid", int64(r.PID), true)
	e.String("exec_id", r.ExecID, true)
	if r.State != nil {
		e.Key("state")
		if err := r.State.encode(e); err != nil {
			return err
		}
	}
	if r.Exit != nil {
		e.Key("exit")
		if err := r.Exit.encode(e); err != nil {
			return err
		}
	}
	e.Bool("reaped", r.Reaped, true)
	e.Bool("handoff", r.Handoff, true)
	e.Close()
	return nil
}

func (r *Response) field(d *wirejson.Decoder, key string) error {
	switch key {
	case "error":
		return d.String(&r.Error)
	case "code":
		return d.IntValue(&r.Code)
	case "pid":
		return d.IntValue(&r.PID)
	case "exec_id":
		return d.String(&r.ExecID)
	case "state":
		return wirejson.StructPtr(d, &r.State, (*State).field)
	case "exit":
		return wirejson.StructPtr(d, &r.Exit, (*Exit).field)
	case "reaped":
		return d.Bool(&r.Reaped)
	case "handoff":
		return d.Bool(&r.Handoff)
	}
	return d.Unknown(key, r.field)
}

func (x *Exec) encode(e *wirejson.Encoder) {
	e.Open()
	e.Strings("args", x.Args, false)
	e.Strings("env", x.Env, true)
	e.String("cwd", x.Cwd, true)
	e.String("user", x.User, true)
	e.Bool("tty", x.Tty, true)
	e.Bool("stdin", x.Stdin, true)
	e.Bool("privileged", x.Privileged, true)
	e.Uint("height", uint64(x.Height), true)
	e.Uint("width", uint64(x.Width), true)
	e.Close()
}

func (x *Exec) field(d *wirejson.Decoder, key string) error {
	switch key {
	case "args":
		return d.Strings(&x.Args)
	case "env":
		return d.Strings(&x.Env)
	case "cwd":
		return d.String(&x.Cwd)
	case "user":
		return d.String(&x.User)
	case "tty":
		return d.Bool(&x.Tty)
	case "stdin":
		return d.Bool(&x.Stdin)
	case "privileged":
		return d.Bool(&x.Privileged)
	case "height":
		return d.Uint16(&x.Height)
	case "width":
		return d.Uint16(&x.Width)
	}
	return d.Unknown(key, x.field)
}

func (s *State) encode(e *wirejson.Encoder) error {
	e.Open()
	e.String("status", s.Status, false)
	e.Int("pid", int64(s.PID), false)
	e.Bool("tty", s.Tty, false)
	if !s.StartedAt.IsZero() {
		if err := writeTime(e, "started_at", s.StartedAt); err != nil {
			return err
		}
	}
	if s.Exit != nil {
		e.Key("exit")
		if err := s.Exit.encode(e); err != nil {
			return err
		}
	}
	e.Int("shim_pid", int64(s.ShimPID), false)
	e.Close()
	return nil
}

func (s *State) field(d *wirejson.Decoder, key string) error {
	switch key {
	case "status":
		return d.String(&s.Status)
	case "pid":
		return d.IntValue(&s.PID)
	case "tty":
		return d.Bool(&s.Tty)
	case "started_at":
		return readTime(d, &s.StartedAt)
	case "exit":
		return wirejson.StructPtr(d, &s.Exit, (*Exit).field)
	case "shim_pid":
		return d.IntValue(&s.ShimPID)
	}
	return d.Unknown(key, s.field)
}

func (x *Exit) encode(e *wirejson.Encoder) error {
	e.Open()
	e.Int("exit_code", int64(x.ExitCode), false)
	e.Int("signal", int64(x.Signal), false)
	e.Bool("oom_killed", x.OOMKilled, false)
	if err := writeTime(e, "finished_at", x.FinishedAt); err != nil {
		return err
	}
	e.Close()
	return nil
}

func (x *Exit) field(d *wirejson.Decoder, key string) error {
	switch key {
	case "exit_code":
		return d.IntValue(&x.ExitCode)
	case "signal":
		return d.IntValue(&x.Signal)
	case "oom_killed":
		return d.Bool(&x.OOMKilled)
	case "finished_at":
		return readTime(d, &x.FinishedAt)
	}
	return d.Unknown(key, x.field)
}

func (m *InitMsg) encode(e *wirejson.Encoder) error {
	e.Open()
	e.String("type", m.Type, false)
	e.String("id", m.ID, true)
	e.Int("pid", int64(m.PID), true)
	e.String("error", m.Error, true)
	e.Int("code", int64(m.Code), true)
	e.Int("signal", int64(m.Signal), true)
	if m.Exec != nil {
		e.Key("exec")
		m.Exec.encode(e)
	}
	if m.Exit != nil {
		e.Key("exit")
		if err := m.Exit.encode(e); err != nil {
			return err
		}
	}
	e.Strings("idmapped", m.IDMapped, true)
	e.Close()
	return nil
}

func (m *InitMsg) field(d *wirejson.Decoder, key string) error {
	switch key {
	case "type":
		return d.String(&m.Type)
	case "id":
		return d.String(&m.ID)
	case "pid":
		return d.IntValue(&m.PID)
	case "error":
		return d.String(&m.Error)
	case "code":
		return d.IntValue(&m.Code)
	case "signal":
		return d.IntValue(&m.Signal)
	case "exec":
		return wirejson.StructPtr(d, &m.Exec, (*Exec).field)
	case "exit":
		return wirejson.StructPtr(d, &m.Exit, (*Exit).field)
	case "idmapped":
		return d.Strings(&m.IDMapped)
	}
	return d.Unknown(key, m.field)
}
