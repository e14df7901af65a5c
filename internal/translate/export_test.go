package translate

// Helpers shared with the external tests of this package.
var (
	ServiceForTest = testService
	SliceForTest   = testSlice
	CertForTest    = testCert
)
