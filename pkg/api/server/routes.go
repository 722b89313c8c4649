package server

import "github.com/fasthttp/router"

// routes is the whole API on one screen. Objects are named by query
// parameters, since image references hold slashes.
func (s *Server) routes() *router.Router {
	r := router.New()
	r.GET("/ping", s.ping)
	r.HEAD("/ping", s.ping)
	r.GET("/version", s.version)
	r.GET("/info", s.info)
	r.GET("/system/df", s.systemDF)
	r.POST("/system/prune", s.systemPrune)
	r.POST("/auth", s.auth)

	r.GET("/images", s.imagesList)
	r.GET("/images/inspect", s.imageInspect)
	r.POST("/images/pull", s.imagePull)
	r.POST("/images/push", s.imagePush)
	r.POST("/images/tag", s.imageTag)
	r.POST("/images/remove", s.imageRemove)
	r.GET("/images/save", s.imageSaveGet)
	r.POST("/images/save", s.imageSavePost)
	r.POST("/images/load", s.imageLoad)
	r.POST("/images/import", s.imageImport)

	r.POST("/containers/build", s.containerBuild)
	r.GET("/containers", s.containersList)
	r.GET("/containers/inspect", s.containerInspect)
	r.POST("/containers/create", s.containerCreate)
	r.POST("/containers/run", s.containerRun)
	r.POST("/containers/start", s.containerStart)
	r.POST("/containers/prewarm", s.containerPrewarm)
	r.POST("/containers/stop", s.containerStop)
	r.POST("/containers/restart", s.containerRestart)
	r.POST("/containers/kill", s.containerKill)
	r.POST("/containers/pause", s.containerPause)
	r.POST("/containers/unpause", s.containerUnpause)
	r.POST("/containers/rename", s.containerRename)
	r.POST("/containers/remove", s.containerRemove)
	r.POST("/containers/wait", s.containerWait)
	r.GET("/containers/logs", s.containerLogs)
	r.GET("/containers/stats", s.containerStats)
	r.POST("/containers/attach", s.containerAttach)
	r.POST("/containers/resize", s.containerResize)
	r.POST("/containers/exec", s.containerExec)
	r.POST("/containers/exec/resize", s.execResize)
	r.GET("/containers/exec/inspect", s.execInspect)
	r.GET("/containers/archive", s.archiveGet)
	r.PUT("/containers/archive", s.archivePut)
	r.GET("/containers/top", s.containerTop)
	r.GET("/containers/changes", s.containerChanges)
	r.GET("/containers/export", s.containerExport)
	r.POST("/containers/update", s.containerUpdate)
	r.POST("/containers/commit", s.containerCommit)
	r.POST("/containers/prune", s.containerPrune)
	r.POST("/images/prune", s.imagePrune)
	r.POST("/volumes/prune", s.volumePrune)
	r.POST("/build/prune", s.buildPrune)
	r.GET("/images/history", s.imageHistory)
	r.GET("/events", s.events)

	r.GET("/volumes", s.volumesList)
	r.GET("/volumes/inspect", s.volumeInspect)
	r.POST("/volumes/create", s.volumeCreate)
	r.POST("/volumes/remove", s.volumeRemove)

	r.GET("/networks", s.networksList)
	r.GET("/networks/inspect", s.networkInspect)
	r.POST("/networks/create", s.networkCreate)
	r.POST("/networks/remove", s.networkRemove)
	r.POST("/networks/prune", s.networkPrune)
	r.POST("/networks/connect", s.networkConnect)
	r.POST("/networks/disconnect", s.networkDisconnect)

	r.NotFound = s.notFound
	r.MethodNotAllowed = s.methodNotAllowed
	r.HandleMethodNotAllowed = true
	return r
}
