// Package seccomp turns a syscall policy into the classic-BPF program init loads last,
// just before the workload runs. A Profile is Docker's JSON profile format as data (Parse)
// or minibox's default (Default, Docker's default allowlist); Compile resolves it for a
// capability set into struct sock_filter bytes, checking the architecture (x86_64 plus its
// i386 compat ABI; x32 and every other architecture are killed); Load installs a program
// on the calling thread.
//
// It leaves out when to load (init decides: after caps and no_new_privs, before exec) and
// user-notification actions, which need a supervisor minibox does not have.
package seccomp
