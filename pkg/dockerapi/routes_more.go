package dockerapi

import "github.com/fasthttp/router"

// moreRoutes adds networks, volumes, build, events, system/df, auth and the container
// tools (changes, export, update).
func (s *Server) moreRoutes(r *router.Router) {
	r.GET("/networks", s.networkList)
	r.GET("/networks/{id}", s.networkInspect)
	r.POST("/networks/create", s.networkCreate)
	r.POST("/networks/prune", s.networkPrune)
	r.DELETE("/networks/{id}", s.networkDelete)
	r.POST("/networks/{id}/connect", s.networkConnect)
	r.POST("/networks/{id}/disconnect", s.networkDisconnect)

	r.GET("/volumes", s.volumeList)
	r.GET("/volumes/{name}", s.volumeInspect)
	r.POST("/volumes/create", s.volumeCreate)
	r.POST("/volumes/prune", s.volumePrune)
	r.DELETE("/volumes/{name}", s.volumeDelete)

	r.POST("/build", s.build)
	r.GET("/events", s.events)
	r.GET("/system/df", s.systemDF)
	r.POST("/auth", s.auth)
	r.GET("/containers/{id}/changes", s.containerChanges)
	r.GET("/containers/{id}/export", s.containerExport)
	r.POST("/containers/{id}/update", s.containerUpdate)
}
