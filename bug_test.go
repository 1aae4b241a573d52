package lu

func init() {
	// An internal trigger the machine refuses is a bug in lu: in tests it
	// fails loudly, where it happens.
	onBug = func(err error) { panic(err) }
}
