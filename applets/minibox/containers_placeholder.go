package minibox

// ContainerCmds is replaced by the real container commands.
type ContainerCmds struct{}
