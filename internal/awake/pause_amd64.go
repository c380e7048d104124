package awake

// pause is the x86 PAUSE instruction: a spin loop's hint, which spares
// the other hyperthread of the core and the memory bus.
func pause()
