package dockershape

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Docker's text habits, which the CLI and compose print: its relative times, its STATUS
// text, and its quoted and shortened COMMAND.

// HumanDuration is Docker's units.HumanDuration: "Less than a second", "3 seconds",
// "About a minute", "5 minutes", "About an hour", "3 hours", "2 days", "3 weeks",
// "4 months", "2 years".
func HumanDuration(d time.Duration) string {
	if s := int(d.Seconds()); s < 1 {
		return "Less than a second"
	} else if s == 1 {
		return "1 second"
	} else if s < 60 {
		return fmt.Sprintf("%d seconds", s)
	} else if m := int(d.Minutes()); m == 1 {
		return "About a minute"
	} else if m < 60 {
		return fmt.Sprintf("%d minutes", m)
	} else if h := int(d.Hours() + 0.5); h == 1 {
		return "About an hour"
	} else if h < 48 {
		return fmt.Sprintf("%d hours", h)
	} else if h < 24*7*2 {
		return fmt.Sprintf("%d days", h/24)
	} else if h < 24*30*2 {
		return fmt.Sprintf("%d weeks", h/24/7)
	} else if h < 24*365*2 {
		return fmt.Sprintf("%d months", h/24/30)
	}
	return fmt.Sprintf("%d years", int(d.Hours())/24/365)
}

// Since is "<duration> ago", or "" for a zero time.
func Since(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	return HumanDuration(now.Sub(t)) + " ago"
}

// StatusText is ps's STATUS as Docker writes it: "Up 5 minutes", "Up 5 minutes
// (healthy)", "Up 2 seconds (Paused)", "Restarting (1) 3 seconds ago", "Exited (0) 2
// minutes ago", "Created".
func StatusText(status, health string, exitCode int, started, finished, now time.Time) string {
	switch status {
	case "running":
		up := "Up " + HumanDuration(now.Sub(started))
		switch health {
		case "", "none":
			return up
		case "starting":
			return up + " (health: starting)"
		}
		return up + " (" + health + ")"
	case "paused":
		return "Up " + HumanDuration(now.Sub(started)) + " (Paused)"
	case "restarting":
		return fmt.Sprintf("Restarting (%d) %s ago", exitCode, HumanDuration(now.Sub(finished)))
	case "removing":
		return "Removal In Progress"
	case "dead":
		return "Dead"
	}
	// An exit is an exit even when the start time was lost (a daemon killed before it
	// saved the start); only a container that never ended and never started is Created.
	if status == "created" || started.IsZero() && finished.IsZero() {
		return "Created"
	}
	if finished.IsZero() {
		return fmt.Sprintf("Exited (%d)", exitCode)
	}
	return fmt.Sprintf("Exited (%d) %s ago", exitCode, HumanDuration(now.Sub(finished)))
}

// CommandText is the command as Docker's daemon lists it: arguments with a space are put
// in single quotes ("nginx -g 'daemon off;'").
func CommandText(cmd []string) string {
	parts := make([]string, len(cmd))
	for i, a := range cmd {
		if i > 0 && strings.Contains(a, " ") {
			a = "'" + a + "'"
		}
		parts[i] = a
	}
	return strings.Join(parts, " ")
}

// CommandCell is COMMAND as Docker's ps prints it: cut to 20 characters with "…" unless
// noTrunc, then Go-quoted, so a newline or a tab shows as \n or \t and never breaks a row.
func CommandCell(cmd []string, noTrunc bool) string {
	s := CommandText(cmd)
	if !noTrunc {
		s = Ellipsis(s, 20)
	}
	return strconv.Quote(s)
}

// Ellipsis cuts s to max characters, the last one "…".
func Ellipsis(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max-1]) + "…"
}
