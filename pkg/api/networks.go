package api

import "time"

// NetworkCreateRequest is the body of POST /networks/create.
type NetworkCreateRequest struct {
	Name     string            `json:"name"`
	Driver   string            `json:"driver,omitempty"`  // "bridge" (the only one)
	Subnet   string            `json:"subnet,omitempty"`  // IPv4 CIDR; empty: one from the pool
	Gateway  string            `json:"gateway,omitempty"` // empty: the subnet's first address
	Internal bool              `json:"internal,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
}

// Network is one network as /networks and /networks/inspect show it. The predefined
// "bridge", "host" and "none" are listed too.
type Network struct {
	ID         string                      `json:"id"`
	Name       string                      `json:"name"`
	Driver     string                      `json:"driver"` // bridge, host, null
	Created    time.Time                   `json:"created_at,omitzero"`
	Internal   bool                        `json:"internal"`
	Predefined bool                        `json:"predefined,omitempty"`
	Subnet     string                      `json:"subnet,omitempty"`
	Gateway    string                      `json:"gateway,omitempty"`
	Bridge     string                      `json:"bridge,omitempty"` // the host's bridge device
	Labels     map[string]string           `json:"labels"`
	Containers map[string]NetworkContainer `json:"containers"` // by container id
}

// NetworkContainer is a container attached to a network.
type NetworkContainer struct {
	Name        string   `json:"name"`
	IPv4Address string   `json:"ipv4_address,omitempty"` // "10.210.3.2/24" while running
	MacAddress  string   `json:"mac_address,omitempty"`
	Aliases     []string `json:"aliases,omitempty"`
}

// NetworkConnectRequest is the body of POST /networks/connect.
type NetworkConnectRequest struct {
	Network   string   `json:"network"`
	Container string   `json:"container"`
	Aliases   []string `json:"aliases,omitempty"`
	IP        string   `json:"ip,omitempty"`
}

// NetworkPruneResult lists the networks /networks/prune removed.
type NetworkPruneResult struct {
	Removed []string `json:"removed"`
}

// InspectEndpoint is one of .NetworkSettings.Networks.
type InspectEndpoint struct {
	NetworkID   string   `json:"NetworkID"`
	IPAddress   string   `json:"IPAddress"`
	IPPrefixLen int      `json:"IPPrefixLen"`
	Gateway     string   `json:"Gateway"`
	MacAddress  string   `json:"MacAddress"`
	Aliases     []string `json:"Aliases"`
	Interface   string   `json:"Interface,omitempty"`
}
