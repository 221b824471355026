// Package retry computes when a notice whose delivery failed with a
// transient error is tried again, and when to give up.
//
// The package only does arithmetic on times and durations. Whether an error
// is transient is decided by the delivery package, and the attempt count and
// next-attempt time are stored by the caller.
package retry
