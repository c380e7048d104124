package simulate

import "github.com/clockwork-go/clockwork/internal/controllercmd"

// Controller holds the controller's options (its command line); zero
// values take the defaults of the controller TYPE (INFER5 when unset), and
// the scheduler is built exactly as the controller builds it.
type Controller = controllercmd.Args
