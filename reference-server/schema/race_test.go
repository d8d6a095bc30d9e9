//go:build race

package schema

// raceDetector is true under -race, which slows map-heavy code tenfold;
// TestValidateRandomDocuments then runs fewer documents (it has no
// concurrency for the detector to check).
const raceDetector = true
