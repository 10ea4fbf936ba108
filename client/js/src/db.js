// `@stagekv/client/db`: the platform's helpers on the default client
// (default.js). The names are those of createDb() (db-impl.js); a test checks
// that this list and createDb() agree.

import { lazyClient } from "./default.js";
import { createDb, ENTITIES } from "./db-impl.js";

const db = createDb(lazyClient);

export const {
  createTrack, getTrack, getUserTracks, updateTrack, deleteTrack,
  countTracks, createVideo, getVideo, getUserVideos, updateVideo,
  deleteVideo, countVideos, createConcert, getConcert, getUserConcerts,
  updateConcert, deleteConcert, countConcerts, promoteConcert,
  unpromoteConcert, getPromotedConcerts, createNews, getNews, getUserNews,
  updateNews, deleteNews, countNews, promoteNews, unpromoteNews,
  getPromotedNews, createBanner, getBanner, getUserBanners, updateBanner,
  deleteBanner, countBanners, getActiveBanners, createPromotionCampaign,
  getPromotionCampaign, getUserPromotionCampaigns, updatePromotionCampaign,
  deletePromotionCampaign, countPromotionCampaigns, createPitchingSubmission,
  getPitchingSubmission, getUserPitchingSubmissions,
  updatePitchingSubmission, deletePitchingSubmission,
  countPitchingSubmissions, createPaymentMethod, getPaymentMethod,
  getUserPaymentMethods, updatePaymentMethod, deletePaymentMethod,
  countPaymentMethods, getUser, createUser, updateUser, deleteUser,
  getUidByEmail, getUserByEmail, getBalance, addCoins, spendCoins,
  transferCoins, getCoinHistory, verifyCoins, sendDonation, getDonations,
  getDonationTotal, recordPayment, getPayments, sendMessage, getMessages,
  markAsRead, getConversations, getUnreadMessageCount, createNotification,
  getNotifications, markNotificationAsRead, markAllNotificationsAsRead,
  getUnreadCount, subscribeEmail, unsubscribeEmail, getEmailSubscriptions,
  logEmail, getEmailHistory, createTicket, replyToTicket, getTicket,
  getUserTickets, closeTicket, getSettings, updateSettings,
  incrementAnalytics, getAnalytics, getDashboard, getConversation, subscribe,
  unsubscribe, getSubscriptions, getTrackFeed, getVideoFeed, getConcertFeed,
  getNewsFeed, listUsers, getPayment, updatePaymentStatus, getDonation,
  getSentDonations, deleteMessage, editMessage, deleteNotification,
  reopenTicket, getOpenTickets,
} = db;
export { createDb, ENTITIES };
export default db;
